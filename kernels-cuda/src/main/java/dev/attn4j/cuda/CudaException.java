package dev.attn4j.cuda;

import java.util.Map;

/**
 * A CUDA driver or cuBLAS call failed. The message names the call and, for a launch, the kernel and its
 * configuration: {@code "cuLaunchKernel(softmax_rows_f32, grid=64, block=256) failed: CUDA_ERROR_INVALID_VALUE"}.
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Driver error names of the codes attn4j meets most (the full table is JCuda's {@code CUresult}). */
    private static final Map<Integer, String> COMMON = Map.ofEntries(
            Map.entry(0, "CUDA_SUCCESS"),
            Map.entry(1, "CUDA_ERROR_INVALID_VALUE"),
            Map.entry(2, "CUDA_ERROR_OUT_OF_MEMORY"),
            Map.entry(3, "CUDA_ERROR_NOT_INITIALIZED"),
            Map.entry(4, "CUDA_ERROR_DEINITIALIZED"),
            Map.entry(34, "CUDA_ERROR_STUB_LIBRARY"),
            Map.entry(35, "CUDA_ERROR_INSUFFICIENT_DRIVER"),
            Map.entry(100, "CUDA_ERROR_NO_DEVICE"),
            Map.entry(101, "CUDA_ERROR_INVALID_DEVICE"),
            Map.entry(200, "CUDA_ERROR_INVALID_IMAGE"),
            Map.entry(201, "CUDA_ERROR_INVALID_CONTEXT"),
            Map.entry(209, "CUDA_ERROR_NO_BINARY_FOR_GPU"),
            Map.entry(218, "CUDA_ERROR_INVALID_PTX"),
            Map.entry(222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"),
            Map.entry(400, "CUDA_ERROR_INVALID_HANDLE"),
            Map.entry(500, "CUDA_ERROR_NOT_FOUND"),
            Map.entry(700, "CUDA_ERROR_ILLEGAL_ADDRESS"),
            Map.entry(701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"),
            Map.entry(702, "CUDA_ERROR_LAUNCH_TIMEOUT"),
            Map.entry(719, "CUDA_ERROR_LAUNCH_FAILED"),
            Map.entry(999, "CUDA_ERROR_UNKNOWN"));

    /** cuBLAS status names ({@code cublasStatus_t}). */
    private static final Map<Integer, String> CUBLAS = Map.of(
            0, "CUBLAS_STATUS_SUCCESS",
            1, "CUBLAS_STATUS_NOT_INITIALIZED",
            3, "CUBLAS_STATUS_ALLOC_FAILED",
            7, "CUBLAS_STATUS_INVALID_VALUE",
            8, "CUBLAS_STATUS_ARCH_MISMATCH",
            11, "CUBLAS_STATUS_MAPPING_ERROR",
            13, "CUBLAS_STATUS_EXECUTION_FAILED",
            14, "CUBLAS_STATUS_INTERNAL_ERROR",
            15, "CUBLAS_STATUS_NOT_SUPPORTED",
            16, "CUBLAS_STATUS_LICENSE_ERROR");

    /** Creates the exception with its full message. */
    public CudaException(String message) {
        super(message);
    }

    /** Creates the exception with its full message and cause. */
    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The name of a driver error code ({@code CUDA_ERROR_INVALID_VALUE}), or {@code CUDA_ERROR_<code>}. */
    public static String errorName(int code) {
        String name = COMMON.get(code);
        return name != null ? name : "CUDA_ERROR_" + code;
    }

    /** The name of a cuBLAS status ({@code CUBLAS_STATUS_NOT_SUPPORTED}), or {@code CUBLAS_STATUS_<code>}. */
    public static String cublasName(int status) {
        String name = CUBLAS.get(status);
        return name != null ? name : "CUBLAS_STATUS_" + status;
    }

    /** Throws when a driver call returned an error: {@code "<call> failed: <error name>"}. */
    static void check(int result, String call) {
        if (result != 0) {
            throw new CudaException(call + " failed: " + errorName(result));
        }
    }

    /** Throws when a cuBLAS call returned an error: {@code "<call> failed: <status name>"}. */
    static void checkCublas(int status, String call) {
        if (status != 0) {
            throw new CudaException(call + " failed: " + cublasName(status));
        }
    }
}
