package dev.attn4j.bench.quick;

import dev.attn4j.api.Kernels;
import dev.attn4j.api.Tensor;

/**
 * One kernel on one representative shape, with its inputs allocated once. A case can run the whole
 * problem on a backend, and a slice of it (a few heads, rows or batches) that the float64 oracle can
 * afford; the slice of the backend's full output is compared with the oracle's slice, so speed is never
 * shown for a wrong answer.
 */
interface BenchCase {

    /** Kernel family, e.g. "attention". */
    String kernel();

    /** Human-readable shape, e.g. "B=8 H=12 S=512 D=64". */
    String shape();

    /** Floating-point operations of one full run (nominal: masked work counts). */
    double flops();

    /** Bytes one full run must move at least (inputs read once, outputs written once). */
    double bytes();

    /** Whether the kernel is bound by memory rather than arithmetic (report GB/s then). */
    boolean bandwidthBound();

    /** Runs the whole problem on {@code k}. */
    void runFull(Kernels k);

    /** Runs the slice on {@code k}, writing the slice output buffer of that backend. */
    void runSlice(Kernels k);

    /** Floating-point operations of one slice run. */
    double sliceFlops();

    /** Bytes of one slice run. */
    double sliceBytes();

    /** The slice of the last full run's output. */
    Tensor fullOutputSlice();

    /** The same slice of another full-size output (a peer's), given as a contiguous array. */
    Tensor outputSlice(float[] fullOutput);

    /** The output of the last slice run. */
    Tensor sliceOutput();

    /** Called before the one full run whose output is checked (in-place kernels restore their input). */
    default void beforeCheck() {
    }
}
