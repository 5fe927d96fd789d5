import { enableRelaxedSimd } from '../kernels/simd';

// Imported first by the CLI entry (engine/cli.ts), so it runs before any WebAssembly is compiled: turns
// relaxed SIMD on in this process and its kernel threads when the runtime (Node 20) does not by default.
// The loader still validates the relaxed build and falls back to plain SIMD (kernels/simd.ts).
enableRelaxedSimd();
