// Modules wrangler bundles for the worker (wrangler.toml `rules`): the ORT wasm arrives compiled
// (Workers refuse to compile Wasm from bytes at run time) and the ONNX model as bytes.
declare module '*.wasm' {
  const module: WebAssembly.Module
  export default module
}
declare module '*.onnx' {
  const bytes: ArrayBuffer
  export default bytes
}
