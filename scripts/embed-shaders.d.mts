// Types of embed-shaders.mjs for the TypeScript files that call it (configs, tests).
export declare const SHADER_MODULES: readonly { readonly dir: string; readonly target: string }[];
export declare function renderShaderModule(dir?: string): string;
export declare function embedShaders(): string[];
