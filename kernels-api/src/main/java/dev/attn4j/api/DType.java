package dev.attn4j.api;

/**
 * The element type of a {@link Tensor}'s storage. Kernels compute in float32 (and the reference in
 * float64); the storage type is part of the descriptor so that half-precision storage can be added
 * without changing any signature.
 */
public enum DType {
    /** IEEE 754 binary32, native byte order. */
    FLOAT32(4),
    /** IEEE 754 binary16, native byte order. */
    FLOAT16(2),
    /** bfloat16 (the upper half of a binary32), native byte order. */
    BFLOAT16(2),
    /** One byte per element: 0 is false, anything else true. Used by boolean masks. */
    BOOL(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes one element occupies in storage. */
    public int byteSize() {
        return byteSize;
    }
}
