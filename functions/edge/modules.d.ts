// Modules wrangler bundles for the worker (wrangler.toml `rules`): wasm (the head kernel, ORT's)
// arrives compiled (Workers refuse to compile Wasm from bytes at run time); the ONNX model and the
// weights blob as bytes.
declare module '*.wasm' {
  const module: WebAssembly.Module
  export default module
}
declare module '*.onnx' {
  const bytes: ArrayBuffer
  export default bytes
}
declare module '*.bin' {
  const bytes: ArrayBuffer
  export default bytes
}
