package dev.attn4j.ci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One converted ONNX node test: {@code <dir>/case.json} plus {@code input_K.npy} and {@code output_K.npy}
 * (see {@code ../shared/conformance/README.md}). The node's inputs and outputs are addressed by their
 * slot in the node, so that optional slots left empty ({@code ""}) are simply absent.
 *
 * @param name       the case name
 * @param dir        the folder holding the files
 * @param opType     the node's {@code op_type}
 * @param domain     the node's domain ({@code ""} for the default ONNX domain)
 * @param opset      the opset of that domain
 * @param multiNode  whether the graph has more than one node
 * @param attributes the attributes the model sets (the operator's defaults apply to the others)
 * @param nodeInputs the node's input names by slot ({@code ""} for an empty optional slot)
 * @param nodeOutputs the node's output names by slot
 * @param inputs     the graph inputs with their files
 * @param outputs    the graph outputs with their files (the expected values)
 */
public record ConformanceCase(String name, Path dir, String opType, String domain, int opset, boolean multiNode,
                              Map<String, JsonNode> attributes, List<String> nodeInputs, List<String> nodeOutputs,
                              List<IoFile> inputs, List<IoFile> outputs) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One graph input or output file.
     *
     * @param file     the file name inside the case folder
     * @param name     the tensor's name in the graph
     * @param nodeSlot the node's input or output slot it feeds or comes from (−1 if none)
     */
    public record IoFile(String file, String name, int nodeSlot) {
    }

    /** Copies the collections. */
    public ConformanceCase {
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        nodeInputs = List.copyOf(nodeInputs);
        nodeOutputs = List.copyOf(nodeOutputs);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** Reads {@code dir/case.json}. */
    public static ConformanceCase load(Path dir) throws IOException {
        Path json = dir.resolve("case.json");
        JsonNode root;
        try {
            root = JSON.readTree(json.toFile());
        } catch (IOException e) {
            throw new IOException(json + ": cannot parse: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(json + ": expected a JSON object");
        }
        String name = root.path("case").asText(dir.getFileName().toString());
        String opType = require(root, "op_type", json).asText();
        String domain = root.path("domain").asText("");
        int opset = require(root, "opset", json).asInt();
        boolean multi = root.path("multi_node").asBoolean(false) || root.path("node_count").asInt(1) > 1;
        Map<String, JsonNode> attrs = new LinkedHashMap<>();
        JsonNode a = root.path("attributes");
        if (a.isObject()) {
            a.properties().forEach(e -> attrs.put(e.getKey(), e.getValue()));
        }
        List<String> nodeInputs = strings(root.path("node_inputs"));
        List<String> nodeOutputs = strings(root.path("node_outputs"));
        List<IoFile> ins = ioFiles(root.path("inputs"), nodeInputs, "input", json);
        List<IoFile> outs = ioFiles(root.path("outputs"), nodeOutputs, "output", json);
        return new ConformanceCase(name, dir, opType, domain, opset, multi, attrs, nodeInputs, nodeOutputs, ins, outs);
    }

    private static JsonNode require(JsonNode root, String field, Path json) throws IOException {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            throw new IOException(json + ": missing field '" + field + "'");
        }
        return n;
    }

    private static List<String> strings(JsonNode arr) {
        List<String> out = new ArrayList<>();
        if (arr.isArray()) {
            arr.forEach(n -> out.add(n.asText("")));
        }
        return out;
    }

    private static List<IoFile> ioFiles(JsonNode arr, List<String> slots, String kind, Path json) throws IOException {
        List<IoFile> out = new ArrayList<>();
        if (!arr.isArray()) {
            throw new IOException(json + ": missing array '" + kind + "s'");
        }
        int k = 0;
        for (JsonNode n : arr) {
            String file = n.path("file").asText(kind + "_" + k + ".npy");
            String name = n.path("name").asText("");
            int slot = n.has("node_slot") ? n.get("node_slot").asInt(-1) : slots.indexOf(name);
            out.add(new IoFile(file, name, slot));
            k++;
        }
        return out;
    }

    /** Whether the node's input slot is connected. */
    public boolean hasInput(int slot) {
        return slot < nodeInputs.size() && !nodeInputs.get(slot).isEmpty();
    }

    /** Whether the node's output slot is wanted. */
    public boolean hasOutput(int slot) {
        return slot < nodeOutputs.size() && !nodeOutputs.get(slot).isEmpty();
    }

    /** Reads the graph input that feeds the node's input {@code slot}, or null when the slot is empty. */
    public Npy.Array input(int slot) throws IOException {
        if (!hasInput(slot)) {
            return null;
        }
        for (IoFile f : inputs) {
            if (f.nodeSlot() == slot) {
                return Npy.read(dir.resolve(f.file()));
            }
        }
        throw new IOException(name + ": node input " + slot + " ('" + nodeInputs.get(slot)
                + "') is not a graph input with a file (initializers and multi-node graphs are not supported)");
    }

    /** Reads every expected output, keyed by the node output slot it checks. */
    public Map<Integer, Npy.Array> expectedOutputs() throws IOException {
        Map<Integer, Npy.Array> out = new LinkedHashMap<>();
        for (IoFile f : outputs) {
            out.put(f.nodeSlot(), Npy.read(dir.resolve(f.file())));
        }
        return out;
    }

    /** The name of the node output in {@code slot}. */
    public String outputName(int slot) {
        return slot >= 0 && slot < nodeOutputs.size() ? nodeOutputs.get(slot) : "output" + slot;
    }

    /** An int attribute, or {@code def} when the model does not set it. */
    public long intAttr(String attr, long def) {
        JsonNode n = attributes.get(attr);
        if (n == null || n.isNull()) {
            return def;
        }
        if (!n.isNumber()) {
            throw new IllegalArgumentException("attribute " + attr + " must be an int but is " + n);
        }
        return n.asLong();
    }

    /** A float attribute (the exact float32 value written as a double), or {@code def}. */
    public float floatAttr(String attr, float def) {
        JsonNode n = attributes.get(attr);
        if (n == null || n.isNull()) {
            return def;
        }
        if (!n.isNumber()) {
            throw new IllegalArgumentException("attribute " + attr + " must be a float but is " + n);
        }
        return (float) n.asDouble();
    }

    /** Whether the model sets {@code attr}. */
    public boolean hasAttr(String attr) {
        JsonNode n = attributes.get(attr);
        return n != null && !n.isNull();
    }

    /** A string attribute, or {@code def}. */
    public String stringAttr(String attr, String def) {
        JsonNode n = attributes.get(attr);
        return n == null || n.isNull() ? def : n.asText();
    }

    /** Attribute names the model sets that are not in {@code known}. */
    public List<String> unknownAttributes(String... known) {
        Map<String, Boolean> k = new HashMap<>();
        for (String s : known) {
            k.put(s, true);
        }
        List<String> out = new ArrayList<>();
        for (String attr : attributes.keySet()) {
            if (!k.containsKey(attr)) {
                out.add(attr);
            }
        }
        return out;
    }
}
