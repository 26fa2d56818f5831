package dev.attn4j.tune;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tuned configurations remembered across runs (FFTW's wisdom): a versioned text file keyed by a
 * {@link Fingerprint} of the machine and by {@link ProblemClass}.
 *
 * <p>The file is found at {@code -Dattn4j.wisdom}, else {@code $ATTN4J_WISDOM}, else
 * {@code $XDG_CACHE_HOME/attn4j/wisdom.txt} (or {@code ~/.cache/attn4j/wisdom.txt}). A corrupt, foreign
 * (other fingerprint) or stale (other format version) file is ignored with one warning and rewritten
 * on the next save. Saves take an exclusive lock on a sidecar {@code .lock} file, re-read the file,
 * merge, write a temporary file and move it into place atomically, so concurrent processes never
 * corrupt it and never lose each other's entries. A location that cannot be written falls back to
 * memory with one warning.
 *
 * <p>Format, one record per line, tab-separated:
 * <pre>
 *   attn4j-wisdom	1
 *   fingerprint	&lt;Fingerprint.key()&gt;
 *   &lt;ProblemClass.key()&gt;	&lt;backend&gt;	&lt;config&gt;	&lt;median ns&gt;	&lt;estimate ns&gt;
 * </pre>
 * Thread-safe.
 */
public final class Wisdom {
    /** The format version this code reads and writes. */
    public static final int FORMAT = 1;
    /** The system property naming the wisdom file. */
    public static final String PROPERTY = "attn4j.wisdom";
    /** The environment variable naming the wisdom file. */
    public static final String ENV = "ATTN4J_WISDOM";

    private static final System.Logger LOG = System.getLogger("dev.attn4j.tune");
    private static final String MAGIC = "attn4j-wisdom";

    /**
     * One remembered choice.
     *
     * @param backend     the backend the configuration belongs to
     * @param config      the configuration, encoded by its backend
     * @param medianNanos its measured median time
     * @param estimateNanos the ESTIMATE default's median time measured in the same run
     */
    public record Entry(String backend, String config, double medianNanos, double estimateNanos) {
        /** Requires fields without separators. */
        public Entry {
            for (String s : new String[] {backend, config}) {
                if (Objects.requireNonNull(s).contains("\t") || s.contains("\n")) {
                    throw new IllegalArgumentException("wisdom fields must not contain tabs or newlines: " + s);
                }
            }
        }

        /** The speed-up of the tuned configuration over ESTIMATE. */
        public double speedup() {
            return estimateNanos / medianNanos;
        }
    }

    private static final Map<String, Wisdom> SHARED = new ConcurrentHashMap<>();

    private final Path file;
    private final Fingerprint fingerprint;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private volatile boolean memoryOnly;
    private volatile String lastWarning;

    private Wisdom(Path file, Fingerprint fingerprint) {
        this.file = file;
        this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
    }

    /** Opens the wisdom at {@code file} for {@code fingerprint}, reading what it holds (see the class comment). */
    public static Wisdom open(Path file, Fingerprint fingerprint) {
        Wisdom w = new Wisdom(Objects.requireNonNull(file, "file"), fingerprint);
        w.entries.putAll(w.readValid());
        return w;
    }

    /**
     * The process-wide wisdom at {@link #defaultLocation()} for this machine's fingerprint with the
     * given vector width and GPU description: backends read their tuned tiles from it, and
     * {@code ./attn4j tune} writes into the same instance. Opened (one small file read) on first use.
     */
    public static Wisdom shared(int vectorBits, String gpu) {
        Fingerprint f = Fingerprint.current(vectorBits, gpu);
        Path file = defaultLocation();
        return SHARED.computeIfAbsent(file.toAbsolutePath() + "\n" + f.key(), k -> open(file, f));
    }

    /** An in-memory wisdom that never touches a file. */
    public static Wisdom inMemory(Fingerprint fingerprint) {
        Wisdom w = new Wisdom(null, fingerprint);
        w.memoryOnly = true;
        return w;
    }

    /** The default location (see the class comment). */
    public static Path defaultLocation() {
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("attn4j").resolve("wisdom.txt");
    }

    /** The file, or null for an in-memory wisdom. */
    public Path file() {
        return file;
    }

    /** The fingerprint entries are kept for. */
    public Fingerprint fingerprint() {
        return fingerprint;
    }

    /** Whether saves stay in memory (no file, or it could not be written). */
    public boolean isMemoryOnly() {
        return memoryOnly;
    }

    /** The last warning this wisdom logged (corrupt, foreign, stale, read-only), or null. */
    public String lastWarning() {
        return lastWarning;
    }

    /** The entry for {@code backend} and {@code problem}, or null. */
    public Entry get(String backend, ProblemClass problem) {
        return entries.get(problem.key() + "\t" + backend);
    }

    /** Every entry, keyed by "problem-class-key TAB backend". */
    public Map<String, Entry> entries() {
        return Map.copyOf(entries);
    }

    /** Remembers an entry and saves the file (merging with what other processes wrote meanwhile). */
    public void put(ProblemClass problem, Entry entry) {
        entries.put(problem.key() + "\t" + entry.backend(), entry);
        save();
    }

    /** Forgets the entry for {@code backend} and {@code problem} (the kernels fall back to ESTIMATE) and saves. */
    public synchronized void remove(String backend, ProblemClass problem) {
        String key = problem.key() + "\t" + backend;
        if (entries.remove(key) != null && !memoryOnly) {
            rewriteWithout(key);
        }
    }

    private void rewriteWithout(String key) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Path lock = dir.resolve(file.getFileName() + ".lock");
            try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                Map<String, Entry> merged = new TreeMap<>(readValid());
                merged.remove(key);
                Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
                try {
                    Files.writeString(tmp, render(merged), StandardCharsets.UTF_8);
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
        } catch (IOException | RuntimeException e) {
            memoryOnly = true;
            warn("attn4j wisdom " + file + " cannot be written (" + e + "); tuned settings stay in memory for this process");
        }
    }

    /** Writes every entry to {@code target} (for a framework to ship with its release). */
    public void exportTo(Path target) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(target, render(new TreeMap<>(entries)), StandardCharsets.UTF_8);
    }

    /**
     * Merges the entries of a file exported by {@link #exportTo}; returns how many were imported.
     *
     * @throws IllegalArgumentException if the file is corrupt, stale or from another machine fingerprint
     */
    public int importFrom(Path source) throws IOException {
        Parsed parsed = parse(Files.readString(source, StandardCharsets.UTF_8));
        if (parsed.problem != null) {
            throw new IllegalArgumentException("cannot import wisdom " + source + ": " + parsed.problem);
        }
        entries.putAll(parsed.entries);
        save();
        return parsed.entries.size();
    }

    // ------------------------------------------------------------------ file handling

    private synchronized void save() {
        if (memoryOnly) {
            return;
        }
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path lock = dir.resolve(file.getFileName() + ".lock");
            try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                Map<String, Entry> merged = new TreeMap<>(readValid());
                merged.putAll(entries);
                Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
                try {
                    Files.writeString(tmp, render(merged), StandardCharsets.UTF_8);
                    try {
                        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                    }
                } finally {
                    Files.deleteIfExists(tmp);
                }
                entries.putAll(merged);
            }
        } catch (IOException | RuntimeException e) {
            memoryOnly = true;
            warn("attn4j wisdom " + file + " cannot be written (" + e + "); tuned settings stay in memory for this process");
        }
    }

    /** Reads the file's entries, or none (with one warning) when it is corrupt, foreign or stale. */
    private Map<String, Entry> readValid() {
        if (file == null || !Files.exists(file)) {
            return Map.of();
        }
        try {
            Parsed parsed = parse(Files.readString(file, StandardCharsets.UTF_8));
            if (parsed.problem != null) {
                warn("attn4j wisdom " + file + " ignored: " + parsed.problem + "; it will be rewritten");
                return Map.of();
            }
            return parsed.entries;
        } catch (IOException | RuntimeException e) {
            warn("attn4j wisdom " + file + " ignored: cannot be read (" + e + ")");
            return Map.of();
        }
    }

    private record Parsed(Map<String, Entry> entries, String problem) {
    }

    private Parsed parse(String text) {
        List<String> lines = text.lines().toList();
        if (lines.isEmpty()) {
            return new Parsed(Map.of(), "corrupt (empty)");
        }
        String[] head = lines.get(0).split("\t");
        if (head.length != 2 || !head[0].equals(MAGIC)) {
            return new Parsed(Map.of(), "corrupt (no '" + MAGIC + "' header)");
        }
        if (!head[1].equals(Integer.toString(FORMAT))) {
            return new Parsed(Map.of(), "stale (format " + head[1] + ", this attn4j reads format " + FORMAT + ")");
        }
        if (lines.size() < 2 || !lines.get(1).startsWith("fingerprint\t")) {
            return new Parsed(Map.of(), "corrupt (no fingerprint line)");
        }
        String theirs = lines.get(1).substring("fingerprint\t".length());
        if (!theirs.equals(fingerprint.key())) {
            return new Parsed(Map.of(), "foreign (recorded on '" + theirs + "', this machine is '" + fingerprint.key() + "')");
        }
        Map<String, Entry> out = new TreeMap<>();
        for (int n = 2; n < lines.size(); n++) {
            String line = lines.get(n);
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            try {
                if (f.length != 5) {
                    throw new IllegalArgumentException("expected 5 fields");
                }
                ProblemClass.parse(f[0]);
                double median = Double.parseDouble(f[3]);
                double estimate = Double.parseDouble(f[4]);
                if (!(median > 0) || !(estimate > 0)) {
                    throw new IllegalArgumentException("times must be positive");
                }
                out.put(f[0] + "\t" + f[1], new Entry(f[1], f[2], median, estimate));
            } catch (RuntimeException e) {
                return new Parsed(Map.of(), "corrupt (line " + (n + 1) + ": " + e.getMessage() + ")");
            }
        }
        return new Parsed(out, null);
    }

    private String render(Map<String, Entry> map) {
        List<String> lines = new ArrayList<>();
        lines.add(MAGIC + "\t" + FORMAT);
        lines.add("fingerprint\t" + fingerprint.key());
        for (Map.Entry<String, Entry> e : map.entrySet()) {
            String problem = e.getKey().substring(0, e.getKey().indexOf('\t'));
            Entry v = e.getValue();
            lines.add(problem + "\t" + v.backend() + "\t" + v.config() + "\t" + v.medianNanos() + "\t" + v.estimateNanos());
        }
        return String.join("\n", lines) + "\n";
    }

    private void warn(String message) {
        if (!message.equals(lastWarning)) {
            lastWarning = message;
            LOG.log(System.Logger.Level.WARNING, message);
        }
    }
}
