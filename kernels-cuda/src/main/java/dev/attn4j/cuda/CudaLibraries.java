package dev.attn4j.cuda;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Where the CUDA libraries are and in which order they are loaded.
 *
 * <p>JCuda 12.6's {@code libJCublas2} links {@code libcublas.so.12}. When a directory of the search path
 * holds {@code libcublas.so.12} it is used as it is. Otherwise, on machines with only CUDA 13 (a PyTorch
 * wheel's {@code site-packages/nvidia/cu13/lib}, a CUDA 13 toolkit), the backend loads in order
 * {@code libcublasLt.so.13}, {@code libcublas.so.13}, attn4j's shim (SONAME {@code libcublas.so.12},
 * forwarding every symbol JCublas2 imports to {@code libcublas.so.13}) and only then JCublas2, whose
 * dependency on {@code libcublas.so.12} the dynamic linker then satisfies with the shim already loaded.
 *
 * <p>The search path, first match wins: the system property {@value #PATH_PROPERTY}, the environment
 * variable {@value #PATH_ENV} (both lists separated by {@code :}), {@code LD_LIBRARY_PATH},
 * {@code $CUDA_HOME}/{@code $CUDA_PATH}, the standard install paths ({@code /usr/local/cuda/lib64},
 * {@code /usr/local/cuda-13.x}, {@code /usr/local/cuda-12.x}, {@code /usr/lib/x86_64-linux-gnu}, ...) and
 * the pip layout of PyTorch's CUDA wheels ({@code site-packages/nvidia/cu13/lib},
 * {@code site-packages/nvidia/cublas/lib}) under {@code $VIRTUAL_ENV}, {@code $CONDA_PREFIX},
 * {@code ~/.local}, {@code /usr/local}, {@code /usr} and {@code /opt/conda}.
 *
 * <p>Everything here is pure path logic over a root directory, so that it is unit-tested without a GPU.
 */
final class CudaLibraries {
    /** System property: extra directories searched first for the CUDA libraries. */
    static final String PATH_PROPERTY = "attn4j.cuda.libraryPath";
    /** Environment variable: extra directories searched after the system property's. */
    static final String PATH_ENV = "ATTN4J_CUDA_LIBRARY_PATH";

    static final String CUBLAS_12 = "libcublas.so.12";
    static final String CUBLAS_LT_12 = "libcublasLt.so.12";
    static final String CUBLAS_13 = "libcublas.so.13";
    static final String CUBLAS_LT_13 = "libcublasLt.so.13";

    private CudaLibraries() {
    }

    /** How cuBLAS will be loaded, or why it cannot be. */
    sealed interface CublasPlan permits Native12, ViaShim, Missing {
        /** The libraries to {@code System.load}, in order, before JCublas2; {@code shim} is the extracted shim. */
        List<Path> loadOrder(Path shim);

        /** One phrase for {@code ./attn4j info}. */
        String describe();
    }

    /** {@code libcublas.so.12} found: load cublasLt 12 (when beside it) and cuBLAS 12, then JCublas2. */
    record Native12(Path cublasLt, Path cublas) implements CublasPlan {
        @Override
        public List<Path> loadOrder(Path shim) {
            return cublasLt == null ? List.of(cublas) : List.of(cublasLt, cublas);
        }

        @Override
        public String describe() {
            return "cuBLAS 12 from " + cublas;
        }
    }

    /** Only CUDA 13: load cublasLt 13, cuBLAS 13, the shim, then JCublas2. */
    record ViaShim(Path cublasLt, Path cublas) implements CublasPlan {
        @Override
        public List<Path> loadOrder(Path shim) {
            List<Path> order = new ArrayList<>(3);
            if (cublasLt != null) {
                order.add(cublasLt);
            }
            order.add(cublas);
            order.add(shim);
            return List.copyOf(order);
        }

        @Override
        public String describe() {
            return "cuBLAS 13 from " + cublas + " through attn4j's libcublas.so.12 shim";
        }
    }

    /** Neither found. */
    record Missing(String reason) implements CublasPlan {
        @Override
        public List<Path> loadOrder(Path shim) {
            throw new IllegalStateException(reason);
        }

        @Override
        public String describe() {
            return reason;
        }
    }

    /** The search path of this process: its system property, environment and file system. */
    static List<Path> searchPath() {
        return searchPath(System.getProperty(PATH_PROPERTY), System.getenv(), Path.of("/"),
                Path.of(System.getProperty("user.home", "/root")));
    }

    /**
     * The directories searched, in order, without duplicates; only directories that exist are kept.
     *
     * @param property the value of {@value #PATH_PROPERTY}, or null
     * @param env      the environment
     * @param root     the file-system root the standard paths are resolved against ({@code /} but in tests)
     * @param home     the user's home directory
     */
    static List<Path> searchPath(String property, Map<String, String> env, Path root, Path home) {
        Set<Path> dirs = new LinkedHashSet<>();
        addList(dirs, property);
        addList(dirs, env.get(PATH_ENV));
        addList(dirs, env.get("LD_LIBRARY_PATH"));
        for (String var : List.of("CUDA_HOME", "CUDA_PATH")) {
            String home0 = env.get(var);
            if (home0 != null && !home0.isBlank()) {
                dirs.add(Path.of(home0, "lib64"));
                dirs.add(Path.of(home0, "targets", "x86_64-linux", "lib"));
            }
        }
        Path usrLocal = root.resolve("usr/local");
        dirs.add(usrLocal.resolve("cuda/lib64"));
        dirs.add(usrLocal.resolve("cuda/targets/x86_64-linux/lib"));
        // versioned toolkits, newest first: /usr/local/cuda-13.0, /usr/local/cuda-12.6, ...
        for (Path toolkit : listNewestFirst(usrLocal, "cuda-*")) {
            dirs.add(toolkit.resolve("lib64"));
            dirs.add(toolkit.resolve("targets/x86_64-linux/lib"));
        }
        dirs.add(root.resolve("usr/lib/x86_64-linux-gnu"));
        dirs.add(root.resolve("usr/lib64"));
        dirs.add(root.resolve("usr/lib/wsl/lib"));
        dirs.add(root.resolve("opt/cuda/lib64"));
        // PyTorch's pip layout: site-packages/nvidia/cu13/lib (CUDA 13 wheels), nvidia/cublas/lib (CUDA 12)
        List<Path> prefixes = new ArrayList<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String prefix = env.get(var);
            if (prefix != null && !prefix.isBlank()) {
                prefixes.add(Path.of(prefix));
            }
        }
        prefixes.add(home.resolve(".local"));
        prefixes.add(usrLocal);
        prefixes.add(root.resolve("usr"));
        prefixes.add(root.resolve("opt/conda"));
        for (Path prefix : prefixes) {
            for (Path python : listNewestFirst(prefix.resolve("lib"), "python3*")) {
                for (String packages : List.of("site-packages", "dist-packages")) {
                    Path nvidia = python.resolve(packages).resolve("nvidia");
                    dirs.add(nvidia.resolve("cu13/lib"));
                    dirs.add(nvidia.resolve("cublas/lib"));
                    dirs.add(nvidia.resolve("cuda_runtime/lib"));
                }
            }
        }
        List<Path> existing = new ArrayList<>();
        for (Path dir : dirs) {
            if (Files.isDirectory(dir)) {
                existing.add(dir);
            }
        }
        return List.copyOf(existing);
    }

    /**
     * Decides how cuBLAS is loaded from {@code dirs}: {@code libcublas.so.12} when any directory has it
     * (the Lt library taken from the same directory), else {@code libcublas.so.13} through the shim.
     */
    static CublasPlan planCublas(List<Path> dirs, Predicate<Path> isFile) {
        Optional<Path> c12 = find(CUBLAS_12, dirs, isFile);
        if (c12.isPresent()) {
            Path lt = c12.get().resolveSibling(CUBLAS_LT_12);
            return new Native12(isFile.test(lt) ? lt : find(CUBLAS_LT_12, dirs, isFile).orElse(null), c12.get());
        }
        Optional<Path> c13 = find(CUBLAS_13, dirs, isFile);
        if (c13.isPresent()) {
            Path lt = c13.get().resolveSibling(CUBLAS_LT_13);
            return new ViaShim(isFile.test(lt) ? lt : find(CUBLAS_LT_13, dirs, isFile).orElse(null), c13.get());
        }
        return new Missing("CUDA unavailable: neither " + CUBLAS_12 + " nor " + CUBLAS_13 + " found in "
                + (dirs.isEmpty() ? "any search directory" : dirs) + " (set -D" + PATH_PROPERTY + " or "
                + PATH_ENV + ")");
    }

    /** The first {@code dir/name} that is a file. */
    static Optional<Path> find(String name, List<Path> dirs, Predicate<Path> isFile) {
        for (Path dir : dirs) {
            Path candidate = dir.resolve(name);
            if (isFile.test(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static void addList(Set<Path> dirs, String list) {
        if (list == null) {
            return;
        }
        for (String entry : list.split(File.pathSeparator)) {
            if (!entry.isBlank()) {
                dirs.add(Path.of(entry.strip()));
            }
        }
    }

    /** Entries of {@code dir} matching {@code glob}, sorted by name descending (newest version first). */
    private static List<Path> listNewestFirst(Path dir, String glob) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, glob)) {
            for (Path p : stream) {
                if (Files.isDirectory(p)) {
                    found.add(p);
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        found.sort((a, b) -> compareVersions(b.getFileName().toString(), a.getFileName().toString()));
        return found;
    }

    /** Compares names digit runs numerically ({@code cuda-12.10 > cuda-12.9}). */
    static int compareVersions(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int ei = i;
                while (ei < a.length() && Character.isDigit(a.charAt(ei))) {
                    ei++;
                }
                int ej = j;
                while (ej < b.length() && Character.isDigit(b.charAt(ej))) {
                    ej++;
                }
                int c = Long.compare(Long.parseLong(a.substring(i, Math.min(ei, i + 18))),
                        Long.parseLong(b.substring(j, Math.min(ej, j + 18))));
                if (c != 0) {
                    return c;
                }
                i = ei;
                j = ej;
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
