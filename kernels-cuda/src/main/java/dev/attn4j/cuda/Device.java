package dev.attn4j.cuda;

import java.lang.foreign.MemorySegment;

/**
 * The device operations {@link CudaOps} is written against: memory, copies, kernel launches and cuBLAS
 * GEMMs. {@link JCudaDevice} is the GPU (JCuda and JCublas2); the unit tests run the same {@link CudaOps}
 * over an emulation of this interface in plain Java, so that the staging, stride and GEMM-planning logic is
 * checked by the parity suites on machines without a GPU.
 */
interface Device {

    /** Allocates device memory; {@code what} names it in errors. */
    long malloc(long bytes, String what);

    /** Frees device memory. */
    void free(long address);

    /** Copies {@code bytes} bytes of host memory at {@code host + byteOffset} to {@code dst}. */
    void upload(long dst, MemorySegment host, long byteOffset, long bytes);

    /** Copies {@code bytes} bytes from {@code src} to host memory at {@code host + byteOffset}. */
    void download(long src, MemorySegment host, long byteOffset, long bytes);

    /** Sets {@code count} 32-bit words at {@code dst} to {@code value}. */
    void memsetD32(long dst, int value, long count);

    /** Whether the segment's address is device (or managed) memory of this device. */
    boolean isDevice(MemorySegment segment);

    /** Launches a manifest kernel ({@code args} already checked against its signature). */
    void launch(KernelTable.Entry kernel, int gridX, int gridY, int gridZ, int block, KernelArgs args);

    /** A column-major strided-batched GEMM, exactly as cuBLAS takes it (after {@link GemmPlan}'s swap). */
    void gemm(GemmCall call);

    /** The device's limits that launch configurations depend on. */
    CudaLaunchConfig.Limits limits();

    /** Waits for all queued work. */
    void synchronize();

    /**
     * {@code cublasSgemmStridedBatched} (all types 0) or {@code cublasGemmStridedBatchedEx} with FP32 compute.
     * Types are the kernels' storage codes (0 f32, 1 f16, 2 bf16). {@code tensorOp} asks the Ex call for
     * {@code CUBLAS_GEMM_DEFAULT_TENSOR_OP} instead of {@code CUBLAS_GEMM_DEFAULT} (ignored by the SGEMM).
     */
    record GemmCall(int transa, int transb, int m, int n, int k, float alpha, long a, int aType, int lda, long strideA,
                    long b, int bType, int ldb, long strideB, float beta, long c, int cType, int ldc, long strideC,
                    int batch, boolean tensorOp) {
        /** Whether every operand is FP32 (the plain SGEMM). */
        boolean allFloat32() {
            return aType == 0 && bType == 0 && cType == 0;
        }

        /** The call's name and sizes for error messages. */
        String describe() {
            return (allFloat32() ? "cublasSgemmStridedBatched" : "cublasGemmStridedBatchedEx") + "(m=" + m + ", n=" + n
                    + ", k=" + k + ", batch=" + batch + ")";
        }
    }
}
