// GPUBufferUsage and GPUMapMode bits, fixed by the WebGPU specification. Spelt
// out because in Node the globals exist only after the webgpu package loads.
export const MAP_READ = 0x0001;
export const COPY_SRC = 0x0004;
export const COPY_DST = 0x0008;
export const UNIFORM = 0x0040;
export const STORAGE = 0x0080;
export const MAP_MODE_READ = 0x0001;
