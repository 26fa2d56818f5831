package dev.attn4j.cuda;

import java.lang.foreign.MemorySegment;
import jcuda.Pointer;
import jcuda.driver.JCudaDriver;

/**
 * Page-locked host memory ({@code cuMemAllocHost}): copies from and to it run at full PCIe bandwidth and
 * may be asynchronous ({@link CudaStream#copyAsync}). Its {@link #segment()} is ordinary host memory, so a
 * {@code Tensor} over it is a host tensor. Freed by {@link #close()}.
 */
public final class PinnedBuffer implements AutoCloseable {
    private final CudaContext context;
    private final Pointer pointer;
    private final MemorySegment segment;
    private boolean closed;

    PinnedBuffer(CudaContext context, long bytes) {
        this.context = context;
        this.pointer = new Pointer();
        context.makeCurrent();
        CudaException.check(JCudaDriver.cuMemAllocHost(pointer, bytes), "cuMemAllocHost(" + bytes + " bytes)");
        this.segment = MemorySegment.ofBuffer(pointer.getByteBuffer(0, bytes));
    }

    /** The host memory (native, {@link #byteSize()} bytes). */
    public MemorySegment segment() {
        if (closed) {
            throw new IllegalStateException("pinned buffer is closed");
        }
        return segment;
    }

    /** Its size in bytes. */
    public long byteSize() {
        return segment.byteSize();
    }

    Pointer pointer() {
        return pointer;
    }

    /** Frees the memory (idempotent). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            context.makeCurrent();
            CudaException.check(JCudaDriver.cuMemFreeHost(pointer), "cuMemFreeHost");
        }
    }
}
