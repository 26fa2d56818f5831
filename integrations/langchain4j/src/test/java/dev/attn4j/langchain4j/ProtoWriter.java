package dev.attn4j.langchain4j;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** A minimal protobuf writer for building test messages by hand (the inverse of {@link ProtoReader}). */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoWriter varint(int field, long value) {
        tag(field, ProtoReader.VARINT);
        rawVarint(value);
        return this;
    }

    ProtoWriter fixed32(int field, int value) {
        tag(field, ProtoReader.FIXED32);
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
        return this;
    }

    ProtoWriter fixed64(int field, long value) {
        tag(field, ProtoReader.FIXED64);
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
        return this;
    }

    ProtoWriter bytes(int field, byte[] value) {
        tag(field, ProtoReader.LENGTH_DELIMITED);
        rawVarint(value.length);
        out.writeBytes(value);
        return this;
    }

    ProtoWriter string(int field, String value) {
        return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter message(int field, ProtoWriter value) {
        return bytes(field, value.toByteArray());
    }

    ProtoWriter packedVarints(int field, long... values) {
        ProtoWriter p = new ProtoWriter();
        for (long v : values) {
            p.rawVarint(v);
        }
        return bytes(field, p.toByteArray());
    }

    ProtoWriter packedFloats(int field, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return bytes(field, b.array());
    }

    /** Appends raw bytes (to build malformed input). */
    ProtoWriter raw(byte... b) {
        out.writeBytes(b);
        return this;
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    private void tag(int field, int wireType) {
        rawVarint((long) field << 3 | wireType);
    }

    private void rawVarint(long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }

    // ---------------------------------------------------------------- ONNX helpers

    /** A FLOAT TensorProto with raw_data. */
    static ProtoWriter floatTensor(String name, long[] dims, float... values) {
        ProtoWriter t = new ProtoWriter().packedVarints(1, dims).varint(2, OnnxModel.FLOAT).string(8, name);
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return t.bytes(9, b.array());
    }

    /** An INT64 TensorProto with int64_data. */
    static ProtoWriter longTensor(String name, long[] dims, long... values) {
        return new ProtoWriter().packedVarints(1, dims).varint(2, OnnxModel.INT64).string(8, name).packedVarints(7, values);
    }

    /** A NodeProto. */
    static ProtoWriter node(String op, String[] inputs, String[] outputs, ProtoWriter... attributes) {
        ProtoWriter n = new ProtoWriter();
        for (String i : inputs) {
            n.string(1, i);
        }
        for (String o : outputs) {
            n.string(2, o);
        }
        n.string(3, op + "_node").string(4, op);
        for (ProtoWriter a : attributes) {
            n.message(5, a);
        }
        return n;
    }

    /** A ValueInfoProto with only a name. */
    static ProtoWriter valueInfo(String name) {
        return new ProtoWriter().string(1, name);
    }
}
