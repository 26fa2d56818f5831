package dev.attn4j.cuda;

import dev.attn4j.api.Kernels;

/** The cuda backend's Java side over {@link EmulatedDevice}: one device, workspace and backend per test class. */
final class EmulatedBackends {
    private EmulatedBackends() {
    }

    /** Kernels whose backend is {@link CudaBackend} running {@link CudaOps} on a fresh emulated device. */
    static Kernels create() {
        EmulatedDevice device = new EmulatedDevice();
        Workspace workspace = new Workspace(device);
        CudaOps ops = new CudaOps(device, KernelTable.load(), workspace);
        return Kernels.of(new CudaBackend("emulated device", ops, body -> {
            try {
                body.run();
            } finally {
                workspace.reset();
            }
        }));
    }
}
