// AssemblyScript entry: every kernel the engine calls through engine/kernels/wasm.ts.
export { pack_bt, pack_b, pack_a, gemm, gemm_rows } from './gemm';
export { gemm_half, gemv_half, gather_half } from './gemm_half';
export { softmax_rows, layernorm_rows, rmsnorm_rows, activate } from './rows';
export { attention_heads } from './attention';
export { peak_madd } from './peak';
export { peak_madd } from './peak';
export { flash_heads } from './flash';
export { rope } from './rope';
