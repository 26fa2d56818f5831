package dev.attn4j.simd;

/**
 * A float buffer per thread that only grows: the kernels' scratch (packed panels, partial results) without
 * an allocation per call. A thread runs one kernel call at a time, so a call may use its thread's buffer
 * freely; the contents are whatever the last user left.
 */
final class ThreadBuffer {
    private final ThreadLocal<float[]> local = ThreadLocal.withInitial(() -> new float[0]);

    /** This thread's buffer, at least {@code size} floats long. */
    float[] get(int size) {
        float[] buf = local.get();
        if (buf.length < size) {
            buf = new float[size];
            local.set(buf);
        }
        return buf;
    }
}
