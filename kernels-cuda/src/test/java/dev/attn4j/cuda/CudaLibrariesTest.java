package dev.attn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The search path and the load order, over a fake file-system root: no GPU, no CUDA needed. */
class CudaLibrariesTest {
    @TempDir
    Path root;

    private Path dir(String relative) throws IOException {
        return Files.createDirectories(root.resolve(relative));
    }

    private static Path touch(Path dir, String name) throws IOException {
        return Files.createFile(dir.resolve(name));
    }

    @Test
    void propertyThenEnvironmentThenLdLibraryPathThenStandardThenPip() throws IOException {
        Path prop = dir("prop");
        Path env = dir("env");
        Path ld = dir("ld");
        Path cuda = dir("usr/local/cuda/lib64");
        Path cuda126 = dir("usr/local/cuda-12.6/lib64");
        Path cuda1210 = dir("usr/local/cuda-12.10/lib64");
        Path system = dir("usr/lib/x86_64-linux-gnu");
        Path venvCu13 = dir("venv/lib/python3.12/site-packages/nvidia/cu13/lib");
        Path venvCublas = dir("venv/lib/python3.12/site-packages/nvidia/cublas/lib");
        Path userCu13 = dir("home/.local/lib/python3.11/site-packages/nvidia/cu13/lib");
        Path distCu13 = dir("usr/local/lib/python3.10/dist-packages/nvidia/cu13/lib");
        Map<String, String> environment = Map.of(
                CudaLibraries.PATH_ENV, env.toString(),
                "LD_LIBRARY_PATH", ld + ":" + root.resolve("missing"),
                "VIRTUAL_ENV", root.resolve("venv").toString());
        List<Path> dirs = CudaLibraries.searchPath(prop.toString(), environment, root, root.resolve("home"));
        assertEquals(List.of(prop, env, ld, cuda, cuda1210, cuda126, system, venvCu13, venvCublas, userCu13, distCu13), dirs,
                "missing directories are dropped; cuda-12.10 sorts before cuda-12.6");
    }

    @Test
    void cuda13OnlyLoadsLtThenCublasThenShimThenJCublas2() throws IOException {
        Path pip = dir("venv/lib/python3.12/site-packages/nvidia/cu13/lib");
        Path lt = touch(pip, "libcublasLt.so.13");
        Path cublas = touch(pip, "libcublas.so.13");
        CudaLibraries.CublasPlan plan = CudaLibraries.planCublas(List.of(dir("empty"), pip), Files::isRegularFile);
        assertInstanceOf(CudaLibraries.ViaShim.class, plan);
        Path shim = root.resolve("shim.so");
        assertEquals(List.of(lt, cublas, shim), plan.loadOrder(shim));
        assertTrue(plan.describe().contains("shim"), plan.describe());
    }

    @Test
    void cuda12WinsOverCuda13AndNeedsNoShim() throws IOException {
        Path c13 = dir("a");
        touch(c13, "libcublas.so.13");
        touch(c13, "libcublasLt.so.13");
        Path c12 = dir("b");
        Path lt12 = touch(c12, "libcublasLt.so.12");
        Path cublas12 = touch(c12, "libcublas.so.12");
        CudaLibraries.CublasPlan plan = CudaLibraries.planCublas(List.of(c13, c12), Files::isRegularFile);
        assertEquals(new CudaLibraries.Native12(lt12, cublas12), plan);
        assertEquals(List.of(lt12, cublas12), plan.loadOrder(null));
    }

    @Test
    void ltIsTakenFromAnotherDirectoryWhenNotBesideCublas() throws IOException {
        Path a = dir("a");
        Path b = dir("b");
        Path cublas = touch(a, "libcublas.so.13");
        Path lt = touch(b, "libcublasLt.so.13");
        assertEquals(new CudaLibraries.ViaShim(lt, cublas), CudaLibraries.planCublas(List.of(a, b), Files::isRegularFile));
    }

    @Test
    void nothingFoundSaysWhereItLookedAndHowToConfigure() throws IOException {
        Path a = dir("a");
        CudaLibraries.CublasPlan plan = CudaLibraries.planCublas(List.of(a), Files::isRegularFile);
        CudaLibraries.Missing missing = assertInstanceOf(CudaLibraries.Missing.class, plan);
        assertEquals("CUDA unavailable: neither libcublas.so.12 nor libcublas.so.13 found in [" + a + "] (set -D"
                + CudaLibraries.PATH_PROPERTY + " or " + CudaLibraries.PATH_ENV + ")", missing.reason());
    }

    @Test
    void versionsCompareNumerically() {
        assertTrue(CudaLibraries.compareVersions("cuda-12.10", "cuda-12.9") > 0);
        assertTrue(CudaLibraries.compareVersions("python3.9", "python3.12") < 0);
        assertEquals(0, CudaLibraries.compareVersions("cuda-13.0", "cuda-13.0"));
    }
}
