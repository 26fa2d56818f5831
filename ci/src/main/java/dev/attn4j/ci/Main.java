package dev.attn4j.ci;

import dev.attn4j.api.Attn4j;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code attn4j} command line ({@code ./attn4j} at the repository root runs it):
 * {@code info}, {@code parity}, {@code bench} and {@code tune}, each with {@code --help}.
 */
@Command(name = "attn4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Attention kernels for the JVM: backends, ONNX conformance, benchmarks.",
        subcommands = {Main.Info.class, Main.Parity.class})
public final class Main implements Callable<Integer> {
    /** System property the launcher sets to the repository root; relative defaults are resolved against it. */
    public static final String HOME_PROPERTY = "attn4j.home";
    /** The default conformance folder, relative to the repository root. */
    public static final String DEFAULT_CASES = "../shared/conformance/onnx";

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** Runs the tool and exits with its status. */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * The class of the real {@code bench} command. It lives in the {@code jmh} module, which depends on this
     * one, so it is looked up by name: on the class path (the launcher's shaded jar) it is the {@code bench}
     * subcommand, otherwise {@link Bench} stands in for it.
     */
    static final String BENCH_COMMAND = "dev.attn4j.bench.quick.BenchCommand";

    /** The configured picocli command line (tests run it without exiting). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.addSubcommand("bench", benchCommand());
        cl.addSubcommand("tune", new TuneCommand());
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        return cl.setCaseInsensitiveEnumValuesAllowed(true);
    }

    /** The {@code jmh} module's bench command when it is on the class path, else the stand-in {@link Bench}. */
    static Object benchCommand() {
        try {
            return Class.forName(BENCH_COMMAND).getConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return new Bench();
        }
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    /** The repository root: {@code -Dattn4j.home} (set by the launcher) or the working directory. */
    static Path home() {
        String h = System.getProperty(HOME_PROPERTY);
        return Path.of(h == null || h.isBlank() ? "" : h).toAbsolutePath();
    }

    /** The default cases folder, {@code ../shared/conformance/onnx} relative to the repository root. */
    static Path defaultCases() {
        return home().resolve(DEFAULT_CASES).normalize();
    }

    /** {@code attn4j info}. */
    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Backends found (and why an unavailable one is unavailable), CPU, vector width, cores, JDK, GPU.")
    static final class Info implements Callable<Integer> {
        @Override
        public Integer call() {
            SystemInfo.print(System.out);
            return 0;
        }
    }

    /** {@code attn4j parity}. */
    @Command(name = "parity", mixinStandardHelpOptions = true,
            description = {"Runs the ONNX conformance cases (case.json + .npy folders) on attn4j's backends and compares "
                    + "every output: one PASS/FAIL line per case and backend, then 'parity: N passed, M failed'.",
                    "Exits 0 only when every case passed on every backend and at least one case ran."})
    static final class Parity implements Callable<Integer> {
        @Option(names = "--cases", paramLabel = "DIR",
                description = "A folder of cases (searched a few levels deep for case.json), or one case folder; "
                        + "repeat for several. Default: " + DEFAULT_CASES + " relative to the repository root.")
        List<Path> cases;

        @Option(names = "--backend", paramLabel = "NAME|all", defaultValue = "all",
                description = "A backend name (reference, simd, cuda, ...), a comma-separated list, or 'all' for every "
                        + "available backend. Default: ${DEFAULT-VALUE}.")
        String backend;

        @Override
        public Integer call() {
            return runParity(cases, backend, System.out, System.err);
        }
    }

    /** {@code attn4j bench} when the {@code jmh} module's bench command is not on the class path. */
    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = {"Stand-in until the benchmark suite is in the build: 'info', then 'parity' over the default "
                    + "cases on every available backend.",
                    "The jmh module's quick bench replaces this command when it is on the class path."})
    static final class Bench implements Callable<Integer> {
        @Option(names = "--cases", paramLabel = "DIR", description = "Cases for the parity run (default: " + DEFAULT_CASES + ").")
        List<Path> cases;

        @Option(names = "--backend", paramLabel = "NAME|all", defaultValue = "all",
                description = "Backends for the parity run. Default: ${DEFAULT-VALUE}.")
        String backend;

        @Override
        public Integer call() {
            SystemInfo.print(System.out);
            System.out.println();
            System.out.println("bench: the benchmark suite comes with its own issue and is not in this build; "
                    + "running the conformance check instead.");
            System.out.println();
            return runParity(cases, backend, System.out, System.err);
        }
    }

    static int runParity(List<Path> cases, String backend, PrintStream out, PrintStream err) {
        List<Path> roots = cases == null || cases.isEmpty() ? List.of(defaultCases()) : cases;
        for (Path r : roots) {
            if (!Files.exists(r)) {
                err.println("parity: cases folder " + r + " does not exist"
                        + (cases == null || cases.isEmpty() ? " (the default, " + DEFAULT_CASES
                        + " relative to the repository root; pass --cases DIR)" : ""));
            }
        }
        List<String> backends;
        try {
            backends = ParityRunner.resolveBackends(backend);
        } catch (IllegalArgumentException e) {
            err.println("parity: " + e.getMessage());
            out.println("parity: 0 passed, 1 failed");
            return 2;
        }
        if (backend == null || backend.isBlank() || backend.strip().equals("all")) {
            for (Attn4j.BackendStatus s : Attn4j.backends()) {
                if (!s.available()) {
                    err.println("parity: skipping backend " + s.name() + ": " + s.reason());
                }
            }
        }
        if (backends.isEmpty()) {
            err.println("parity: no backend can run here");
            out.println("parity: 0 passed, 1 failed");
            return 2;
        }
        ParityRunner.Summary s = new ParityRunner(out).run(roots, backends);
        if (s.passed() + s.failed() == 0) {
            err.println("parity: no case found under " + roots);
        }
        return s.exitCode();
    }

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"attn4j " + (v == null ? "(development build)" : v) + ", Java " + Runtime.version()};
        }
    }
}
