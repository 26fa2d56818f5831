package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attn4j.spi.Availability;
import dev.attn4j.spi.BackendProvider;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** The provider's registration and its probe, on whatever machine the test runs. */
class CudaBackendProviderTest {

    @Test
    void serviceLoaderFindsTheCudaProviderWithPriority20() {
        BackendProvider cuda = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cuda")).findFirst().orElseThrow();
        assertEquals(20, cuda.priority());
        assertTrue(cuda instanceof CudaBackendProvider);
    }

    @Test
    void probeGivesOneSentenceAndCreateRefusesWithTheSameReason() {
        CudaBackendProvider provider = new CudaBackendProvider();
        Availability a = provider.probe();
        assertFalse(a.reason().isBlank());
        assertFalse(a.reason().contains("\n"), a.reason());
        if (!a.available()) {
            assertTrue(a.reason().startsWith("CUDA unavailable: "), a.reason());
            IllegalStateException e = assertThrows(IllegalStateException.class, provider::create);
            assertEquals(a.reason(), e.getMessage());
            assertThrows(IllegalStateException.class, () -> CudaContext.open(0));
        }
        assertEquals(a, provider.probe(), "the probe runs once and its answer is kept");
    }

    @Test
    void withoutADriverTheReasonNamesLibcuda() {
        boolean driver;
        try {
            SymbolLookup.libraryLookup(DriverProbe.LIBCUDA, Arena.global());
            driver = true;
        } catch (IllegalArgumentException e) {
            driver = false;
        }
        if (!driver && CudaBackendProvider.platformProblem(System.getProperty("os.name"), System.getProperty("os.arch")) == null
                && System.getenv(CudaLibraries.PATH_ENV) == null) {
            assertEquals("CUDA unavailable: libcuda.so.1 not found (no NVIDIA driver)", new CudaBackendProvider().probe().reason());
        }
    }

    @Test
    void onlyLinuxX8664IsSupported() {
        assertNull(CudaBackendProvider.platformProblem("Linux", "amd64"));
        assertNull(CudaBackendProvider.platformProblem("Linux", "x86_64"));
        assertEquals("CUDA unavailable: attn4j ships JCuda natives and its kernels for linux-x86_64 only, not Mac OS X/aarch64",
                CudaBackendProvider.platformProblem("Mac OS X", "aarch64"));
        assertTrue(CudaBackendProvider.platformProblem("Linux", "aarch64").startsWith("CUDA unavailable: "));
    }

    @Test
    void driverVersionsReadAsMajorDotMinor() {
        assertEquals("13.0", DriverProbe.versionString(13000));
        assertEquals("12.6", DriverProbe.versionString(12060));
    }

    @Test
    void errorsAreNamed() {
        assertEquals("CUDA_ERROR_INVALID_VALUE", CudaException.errorName(1));
        assertEquals("CUDA_ERROR_12345", CudaException.errorName(12345));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", CudaException.cublasName(15));
        CudaException e = assertThrows(CudaException.class, () -> CudaException.check(1, "cuMemAlloc(64 bytes)"));
        assertEquals("cuMemAlloc(64 bytes) failed: CUDA_ERROR_INVALID_VALUE", e.getMessage());
    }
}
