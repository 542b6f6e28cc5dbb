// Types of embed-shaders.mjs for the TypeScript files that call it (configs, tests).
export declare function renderShaderModule(): string;
export declare function embedShaders(): boolean;
