package dev.attn4j.cuda;

import dev.attn4j.api.DType;
import dev.attn4j.api.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A strided view of device memory: either allocated by attn4j ({@link CudaContext#allocate}, owned, freed by
 * {@link #close()}) or handed in by the host framework as a raw device pointer with shape and strides
 * ({@link CudaContext#wrap}, borrowed: {@code close()} frees nothing).
 *
 * <p>{@link #asTensor()} turns it into an ordinary {@link Tensor} whose {@link MemorySegment} has the device
 * address: the {@code cuda} backend recognizes such tensors (by asking the driver what the address is) and
 * runs on them in place, with no copy. Such a tensor must never be read on the host ({@link Tensor#get} would
 * dereference a device address) nor given to another backend.
 *
 * <p>Host tensors ({@code float[]} or host {@code MemorySegment}) given to the {@code cuda} backend are
 * copied: in before the kernel (the span of storage the view reaches), and out after it, each a synchronous
 * {@code cuMemcpy} at PCIe bandwidth (about 25 GB/s on PCIe 4 from pageable memory), which dominates any
 * kernel on small problems; keep tensors on the device, or use {@link PinnedBuffer} and
 * {@link CudaStream#copyAsync} to overlap copies.
 */
public final class DeviceTensor implements AutoCloseable {
    private final CudaContext context;
    private final long address;
    private final long byteSize;
    private final Tensor view;
    private final boolean owned;
    private boolean closed;

    DeviceTensor(CudaContext context, long address, long byteSize, DType dtype, long offset, int[] shape,
                 long[] strides, boolean owned) {
        this.context = Objects.requireNonNull(context, "context");
        if (address == 0) {
            throw new IllegalArgumentException("device address must not be 0");
        }
        this.address = address;
        this.byteSize = byteSize;
        // Tensor checks that every element of the view lies inside the storage
        this.view = Tensor.view(MemorySegment.ofAddress(address).reinterpret(byteSize), dtype, offset, shape, strides);
        this.owned = owned;
    }

    /** The context this memory belongs to. */
    public CudaContext context() {
        return context;
    }

    /** Device address of the storage's first byte (the view starts {@link #offset()} elements later). */
    public long address() {
        return address;
    }

    /** Bytes of storage the view may reach. */
    public long byteSize() {
        return byteSize;
    }

    /** The element type. */
    public DType dtype() {
        return view.dtype();
    }

    /** Element offset of the view in its storage. */
    public long offset() {
        return view.offset();
    }

    /** A copy of the shape. */
    public int[] shape() {
        return view.shape();
    }

    /** A copy of the element strides. */
    public long[] strides() {
        return view.strides();
    }

    /** Whether this tensor frees its memory on {@link #close()}. */
    public boolean owned() {
        return owned;
    }

    /**
     * This view as an API {@link Tensor} over a device-address segment, to pass to {@code Kernels} backed by
     * the {@code cuda} backend (no copy). Never read it on the host.
     */
    public Tensor asTensor() {
        checkOpen();
        return view;
    }

    /** Another view (offset, shape, strides in elements) of the same storage; borrowed, never freed by itself. */
    public DeviceTensor view(long newOffset, int[] newShape, long[] newStrides) {
        checkOpen();
        return new DeviceTensor(context, address, byteSize, dtype(), newOffset, newShape, newStrides, false);
    }

    /** Copies {@code host} (same shape) into this view; synchronous. */
    public void copyFrom(Tensor host) {
        checkOpen();
        context.copy(host, view);
    }

    /** Copies this view into {@code host} (same shape); synchronous. */
    public void copyTo(Tensor host) {
        checkOpen();
        context.copy(view, host);
    }

    /** Frees the memory when owned (idempotent); a borrowed view frees nothing. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (owned) {
                context.free(address);
            }
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("device tensor " + this + " is closed");
        }
    }

    @Override
    public String toString() {
        return "DeviceTensor[" + dtype() + " shape=" + Arrays.toString(view.shape()) + " strides="
                + Arrays.toString(view.strides()) + " offset=" + offset() + " at 0x" + Long.toHexString(address)
                + (owned ? "" : " borrowed") + "]";
    }
}
