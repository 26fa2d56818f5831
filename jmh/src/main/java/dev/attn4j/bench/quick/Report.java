package dev.attn4j.bench.quick;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The bench's outputs: the console table, the JSON figures and the HTML report with XChart charts. */
public final class Report {
    private Report() {
    }

    /** The console table. */
    public static String table(List<QuickBench.Result> results) {
        StringBuilder sb = new StringBuilder();
        boolean rates = results.stream().anyMatch(r -> r.rate() != null);
        String fmt = "%-22s %-34s %-9s %11s %10s %7s %10s %8s %-10s%s%n";
        sb.append(String.format(Locale.ROOT, fmt, "kernel", "shape", "backend", "time", "GFLOP/s", "GB/s", "% peak", "× ref",
                "× ORT  err", rates ? "  rate" : "").stripTrailing()).append(System.lineSeparator());
        for (QuickBench.Result r : results) {
            sb.append(String.format(Locale.ROOT, "%-22s %-34s %-9s %11s %10.1f %7.1f %9.1f%% %8s %-10s%s", r.kernel(), r.shape(),
                    r.backend(), seconds(r.seconds()), r.gflops(), r.gbs(), 100 * r.peakFraction(),
                    r.speedupVsReference() == null ? "-" : String.format(Locale.ROOT, "%.1f", r.speedupVsReference()),
                    (r.ratioVsOrt() == null ? "-" : String.format(Locale.ROOT, "%.2f", r.ratioVsOrt()))
                            + (r.maxError() == null ? "" : String.format(Locale.ROOT, " %.1e", r.maxError())),
                    r.rate() == null ? "" : "  " + rate(r.rate())).stripTrailing()).append(System.lineSeparator());
        }
        return sb.toString();
    }

    /**
     * One line per end-to-end case that has our rows and the peer's: texts/s of each and the ratio, e.g.
     * {@code all-MiniLM-L6-v2 embed, 32 texts × 16 tokens: attn4j (simd) 812 texts/s, LangChain4j on ONNX Runtime 1004 texts/s: 0.81×}.
     */
    public static List<String> endToEndLines(List<QuickBench.Result> results) {
        Map<String, List<QuickBench.Result>> byCase = new LinkedHashMap<>();
        for (QuickBench.Result r : results) {
            if (r.rate() != null) {
                byCase.computeIfAbsent(r.kernel() + ", " + r.shape(), c -> new ArrayList<>()).add(r);
            }
        }
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, List<QuickBench.Result>> e : byCase.entrySet()) {
            QuickBench.Result peer = e.getValue().stream().filter(r -> r.backend().equals(OrtPeer.NAME)).findFirst().orElse(null);
            for (QuickBench.Result r : e.getValue()) {
                if (r == peer) {
                    continue;
                }
                StringBuilder sb = new StringBuilder(e.getKey()).append(": attn4j (").append(r.backend()).append(") ")
                        .append(rate(r.rate()));
                if (peer != null && r.ratioVsOrt() != null) {
                    sb.append(", LangChain4j on ONNX Runtime ").append(rate(peer.rate()))
                            .append(String.format(Locale.ROOT, ": %.2f×", r.ratioVsOrt()));
                }
                lines.add(sb.toString());
            }
        }
        return lines;
    }

    static String rate(QuickBench.Rate r) {
        return String.format(Locale.ROOT, "%.0f %s/s", r.perSecond(), r.unit());
    }

    static String seconds(double s) {
        if (s < 1e-3) {
            return String.format(Locale.ROOT, "%.1f µs", s * 1e6);
        }
        if (s < 1) {
            return String.format(Locale.ROOT, "%.2f ms", s * 1e3);
        }
        return String.format(Locale.ROOT, "%.2f s", s);
    }

    /** Writes the raw figures as a JSON array of objects. */
    public static void writeJson(Path file, MachineProbe.Machine machine, List<QuickBench.Result> results) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (QuickBench.Result r : results) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kernel", r.kernel());
            m.put("backend", r.backend());
            m.put("shape", r.shape());
            m.put("seconds", r.seconds());
            m.put("gflops", r.gflops());
            m.put("gbs", r.gbs());
            m.put("arithmeticIntensity", r.intensity());
            m.put("peakFraction", r.peakFraction());
            m.put("speedupVsReference", r.speedupVsReference());
            m.put("ratioVsOrt", r.ratioVsOrt());
            m.put("maxError", r.maxError());
            if (r.rate() != null) {
                m.put("perSecond", r.rate().perSecond());
                m.put("unit", r.rate().unit());
            }
            m.put("cpu", machine.cpu());
            m.put("cores", machine.cores());
            m.put("vectorBits", machine.vectorBits());
            m.put("jdk", machine.jdk());
            m.put("peakGflops", machine.peakGflops());
            m.put("bandwidthGBs", machine.bandwidthGBs());
            rows.add(m);
        }
        mkdirs(file);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), rows);
    }

    /** Writes the HTML report: the machine, the table, a roofline chart and a speed-up bar chart. */
    public static void writeHtml(Path file, MachineProbe.Machine m, List<QuickBench.Result> results, String command)
            throws IOException {
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>attn4j bench</title><style>")
                .append("body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}")
                .append("td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,td:nth-child(2),td:nth-child(3)")
                .append("{text-align:left}th{background:#eee}img{max-width:100%}</style></head><body>");
        html.append("<h1>attn4j bench</h1><p>").append(esc(m.cpu())).append(" · ").append(m.cores()).append(" cores · ")
                .append(m.vectorBits()).append("-bit vectors · JDK ").append(esc(m.jdk()));
        if (m.gpu() != null) {
            html.append(" · GPU ").append(esc(m.gpu()));
        }
        html.append("</p><p>Measured here: FP32 FMA peak <b>").append(fmt(m.peakGflops())).append(" GFLOP/s</b>, copy bandwidth <b>")
                .append(fmt(m.bandwidthGBs())).append(" GB/s</b>. Command: <code>").append(esc(command)).append("</code></p>");
        html.append("<h2>Roofline</h2><img alt=\"roofline\" src=\"data:image/png;base64,").append(png(roofline(m, results)))
                .append("\">");
        if (results.stream().anyMatch(r -> r.speedupVsReference() != null)) {
            html.append("<h2>Speed-up</h2><img alt=\"speed-up\" src=\"data:image/png;base64,").append(png(speedups(results)))
                    .append("\">");
        }
        html.append("<h2>Figures</h2><table><tr><th>kernel</th><th>shape</th><th>backend</th><th>time</th><th>GFLOP/s</th>")
                .append("<th>GB/s</th><th>% of peak</th><th>× reference</th><th>× ONNX Runtime</th><th>max error</th><th>rate</th></tr>");
        for (QuickBench.Result r : results) {
            html.append("<tr><td>").append(esc(r.kernel())).append("</td><td>").append(esc(r.shape())).append("</td><td>")
                    .append(esc(r.backend())).append("</td><td>").append(seconds(r.seconds())).append("</td><td>")
                    .append(fmt(r.gflops())).append("</td><td>").append(fmt(r.gbs())).append("</td><td>")
                    .append(String.format(Locale.ROOT, "%.1f %%", 100 * r.peakFraction())).append("</td><td>")
                    .append(r.speedupVsReference() == null ? "–" : fmt(r.speedupVsReference())).append("</td><td>")
                    .append(r.ratioVsOrt() == null ? "–" : String.format(Locale.ROOT, "%.2f", r.ratioVsOrt())).append("</td><td>")
                    .append(r.maxError() != null ? String.format(Locale.ROOT, "%.1e", r.maxError())
                            : r.backend().equals("reference") ? "(the oracle)" : "–").append("</td><td>")
                    .append(r.rate() == null ? "" : rate(r.rate())).append("</td></tr>");
        }
        html.append("</table><p>Reference times are measured on a slice of each problem (one batch, one KV group, ≤ 256 query ")
                .append("rows) and scaled by flops; errors compare that slice of each backend's full output with the float64 ")
                .append("oracle: max |Δ| / max(1, |ref|). End-to-end rows (").append(esc(EndToEnd.KERNEL)).append(") time one ")
                .append("LangChain4j <code>embedAll</code> call of ").append(EndToEnd.BATCH).append(" texts, tokenization and ")
                .append("pooling included, and compare attn4j's embeddings with ONNX Runtime's: max |Δ| of the unit vectors.</p>")
                .append("</body></html>");
        mkdirs(file);
        Files.writeString(file, html.toString(), StandardCharsets.UTF_8);
    }

    private static XYChart roofline(MachineProbe.Machine m, List<QuickBench.Result> results) {
        XYChart chart = new XYChartBuilder().width(1000).height(560).title("Roofline: achieved GFLOP/s against arithmetic intensity")
                .xAxisTitle("arithmetic intensity (FLOP/byte)").yAxisTitle("GFLOP/s").build();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setMarkerSize(11);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        double ridge = m.peakGflops() / m.bandwidthGBs();
        double lo = 0.05;
        double hi = 1000;
        for (QuickBench.Result r : results) {
            lo = Math.min(lo, r.intensity() / 2);
            hi = Math.max(hi, r.intensity() * 2);
        }
        XYSeries roof = chart.addSeries(String.format(Locale.ROOT, "roof: %.0f GB/s, %.0f GFLOP/s", m.bandwidthGBs(), m.peakGflops()),
                new double[] {lo, ridge, hi}, new double[] {lo * m.bandwidthGBs(), m.peakGflops(), m.peakGflops()});
        roof.setMarker(SeriesMarkers.NONE).setLineColor(Color.DARK_GRAY).setLineStyle(new BasicStroke(2f));
        Map<String, List<QuickBench.Result>> byBackend = new LinkedHashMap<>();
        for (QuickBench.Result r : results) {
            byBackend.computeIfAbsent(r.backend(), b -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<String, List<QuickBench.Result>> e : byBackend.entrySet()) {
            double[] x = e.getValue().stream().mapToDouble(QuickBench.Result::intensity).toArray();
            double[] y = e.getValue().stream().mapToDouble(r -> Math.max(r.gflops(), 1e-3)).toArray();
            XYSeries s = chart.addSeries(e.getKey(), x, y);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        }
        return chart;
    }

    private static CategoryChart speedups(List<QuickBench.Result> results) {
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(560).title("Speed-up over the float64 reference (log scale)")
                .xAxisTitle("kernel and shape").yAxisTitle("× reference").build();
        chart.getStyler().setYAxisLogarithmic(true);
        // bars start at the axis minimum, which must be positive on a log axis
        chart.getStyler().setYAxisMin(0.5);
        chart.getStyler().setXAxisLabelRotation(20);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        List<String> cases = new ArrayList<>();
        for (QuickBench.Result r : results) {
            String c = r.kernel() + " " + r.shape();
            // end-to-end cases have no reference run
            if (r.speedupVsReference() != null && !cases.contains(c)) {
                cases.add(c);
            }
        }
        Map<String, double[]> byBackend = new LinkedHashMap<>();
        for (QuickBench.Result r : results) {
            if (r.speedupVsReference() == null || r.backend().equals("reference")) {
                continue;
            }
            double[] row = byBackend.computeIfAbsent(r.backend(), b -> new double[cases.size()]);
            row[cases.indexOf(r.kernel() + " " + r.shape())] = r.speedupVsReference();
        }
        List<String> labels = cases.stream().map(c -> c.length() > 34 ? c.substring(0, 34) + "…" : c).toList();
        for (Map.Entry<String, double[]> e : byBackend.entrySet()) {
            List<Double> ys = new ArrayList<>();
            for (double v : e.getValue()) {
                ys.add(v > 0.5 ? v : 0.5);
            }
            chart.addSeries(e.getKey(), labels, ys);
        }
        if (byBackend.isEmpty()) {
            chart.addSeries("reference only", labels, labels.stream().map(l -> 1.0).toList());
        }
        return chart;
    }

    private static String png(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        return Base64.getEncoder().encodeToString(out.toByteArray());
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, v >= 100 ? "%.0f" : "%.1f", v);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static void mkdirs(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
    }
}
