// What a browser bundle gets for 'ddpm-gmm/node': a clear error instead of Dawn and node:fs.
throw new Error("'ddpm-gmm/node' is for Node.js (it loads the Dawn WebGPU binding and node:fs); in a browser bundle import from 'ddpm-gmm/browser' instead.");
export {};
