package dev.attn4j.cuda;

import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.runtime.cudaStream_t;

/**
 * A CUDA stream of a {@link CudaContext} with its own cuBLAS handle, created with the stream and kept for its
 * life (never one per call). Closing it destroys both. The context's {@linkplain CudaContext#defaultStream()
 * default stream} is the legacy NULL stream and is closed with the context.
 */
public final class CudaStream implements AutoCloseable {
    private final CudaContext context;
    private final CUstream stream;
    private final boolean owned;
    private cublasHandle cublas;
    private boolean closed;

    CudaStream(CudaContext context, boolean owned) {
        this.context = context;
        this.stream = new CUstream();
        this.owned = owned;
        if (owned) {
            context.makeCurrent();
            CudaException.check(JCudaDriver.cuStreamCreate(stream, 0), "cuStreamCreate");
        }
    }

    CUstream handle() {
        return stream;
    }

    /** This stream's cuBLAS handle, created on first use and bound to the stream. */
    cublasHandle cublas() {
        if (cublas == null) {
            cublasHandle h = new cublasHandle();
            CudaException.checkCublas(JCublas2.cublasCreate(h), "cublasCreate");
            CudaException.checkCublas(JCublas2.cublasSetStream(h, new cudaStream_t(stream)), "cublasSetStream");
            cublas = h;
        }
        return cublas;
    }

    /** Waits until every operation queued on this stream has finished. */
    public void synchronize() {
        context.makeCurrent();
        CudaException.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /** Queues a copy of {@code dst.byteSize()}-limited contiguous bytes from pinned memory into a contiguous device tensor. */
    public void copyAsync(PinnedBuffer src, long srcByteOffset, DeviceTensor dst) {
        long bytes = contiguousBytes(dst);
        java.util.Objects.checkFromIndexSize(srcByteOffset, bytes, src.byteSize());
        context.makeCurrent();
        CudaException.check(JCudaDriver.cuMemcpyHtoDAsync(JCudaDevice.ptr(dst.address() + dst.offset() * dst.dtype().byteSize()),
                src.pointer().withByteOffset(srcByteOffset), bytes, stream), "cuMemcpyHtoDAsync(" + bytes + " bytes)");
    }

    /** Queues a copy of a contiguous device tensor into pinned memory. */
    public void copyAsync(DeviceTensor src, PinnedBuffer dst, long dstByteOffset) {
        long bytes = contiguousBytes(src);
        java.util.Objects.checkFromIndexSize(dstByteOffset, bytes, dst.byteSize());
        context.makeCurrent();
        CudaException.check(JCudaDriver.cuMemcpyDtoHAsync(dst.pointer().withByteOffset(dstByteOffset),
                JCudaDevice.ptr(src.address() + src.offset() * src.dtype().byteSize()), bytes, stream),
                "cuMemcpyDtoHAsync(" + bytes + " bytes)");
    }

    private static long contiguousBytes(DeviceTensor t) {
        if (!t.asTensor().isContiguous()) {
            throw new IllegalArgumentException("asynchronous copies need a contiguous device tensor; " + t + " is not");
        }
        return t.asTensor().elementCount() * t.dtype().byteSize();
    }

    /** Destroys the cuBLAS handle and the stream (idempotent); the default stream is closed by its context. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        context.makeCurrent();
        if (cublas != null) {
            CudaException.checkCublas(JCublas2.cublasDestroy(cublas), "cublasDestroy");
            cublas = null;
        }
        if (owned) {
            CudaException.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy");
        }
    }
}
