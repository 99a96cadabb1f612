package org.dmerl.tensor;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A named collection of arrays in one versioned binary file: checkpoints and saved policies.
 *
 * <p>Format (big-endian): magic {@code "DMERLARC"}, format version (int), entry count (int), then per entry its name
 * (modified UTF-8), a type byte ({@code F} float[] with rows and cols, {@code D} double[], {@code L} long[],
 * {@code S} string), the length and the values; finally a CRC32 of everything before it (long). Files are written to
 * a temporary sibling, forced to disk and renamed, so a crash never leaves a half-written archive under the final
 * name.
 */
public final class TensorArchive {

    public static final int FORMAT_VERSION = 1;
    private static final byte[] MAGIC = "DMERLARC".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final Map<String, Object> entries = new LinkedHashMap<>();

    public TensorArchive putTensor(String name, Tensor t) {
        entries.put(name, new float[][] {{t.rows(), t.cols()}, t.toArray()});
        return this;
    }

    public TensorArchive putTensors(String prefix, List<Tensor> tensors) {
        for (int i = 0; i < tensors.size(); i++) putTensor(prefix + "/" + i, tensors.get(i));
        entries.put(prefix + "/count", new long[] {tensors.size()});
        return this;
    }

    public TensorArchive putDoubles(String name, double[] values) {
        entries.put(name, values.clone());
        return this;
    }

    public TensorArchive putLongs(String name, long[] values) {
        entries.put(name, values.clone());
        return this;
    }

    public TensorArchive putString(String name, String value) {
        entries.put(name, value);
        return this;
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** Copies a stored tensor's values into {@code t}, which must have the stored shape. */
    public void readTensor(String name, Tensor t) {
        if (!(entries.get(name) instanceof float[][] v)) throw new IllegalArgumentException("archive has no tensor '" + name + "'");
        if ((int) v[0][0] != t.rows() || (int) v[0][1] != t.cols()) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape [" + (int) v[0][0] + ", " + (int) v[0][1]
                    + "] in the archive but " + t.shape() + " in the model (a different configuration?)");
        }
        System.arraycopy(v[1], 0, t.data, 0, v[1].length);
        t.touch();
    }

    public void readTensors(String prefix, List<Tensor> tensors) {
        long count = getLongs(prefix + "/count")[0];
        if (count != tensors.size()) {
            throw new IllegalArgumentException("archive holds " + count + " tensors under '" + prefix + "', the model has "
                    + tensors.size() + " (a different configuration?)");
        }
        for (int i = 0; i < tensors.size(); i++) readTensor(prefix + "/" + i, tensors.get(i));
    }

    public double[] getDoubles(String name) {
        if (entries.get(name) instanceof double[] v) return v.clone();
        throw new IllegalArgumentException("archive has no double array '" + name + "'");
    }

    public long[] getLongs(String name) {
        if (entries.get(name) instanceof long[] v) return v.clone();
        throw new IllegalArgumentException("archive has no long array '" + name + "'");
    }

    public String getString(String name) {
        if (entries.get(name) instanceof String v) return v;
        throw new IllegalArgumentException("archive has no string '" + name + "'");
    }

    public void write(Path file) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            out.write(MAGIC);
            out.writeInt(FORMAT_VERSION);
            out.writeInt(entries.size());
            for (var e : entries.entrySet()) {
                out.writeUTF(e.getKey());
                switch (e.getValue()) {
                    case float[][] t -> {
                        out.writeByte('F');
                        out.writeInt((int) t[0][0]);
                        out.writeInt((int) t[0][1]);
                        out.writeInt(t[1].length);
                        // in bulk, big-endian as writeFloat would: one call per value made checkpoints ~70 ms each
                        ByteBuffer values = ByteBuffer.allocate(Float.BYTES * t[1].length);
                        values.asFloatBuffer().put(t[1]);
                        out.write(values.array());
                    }
                    case double[] d -> {
                        out.writeByte('D');
                        out.writeInt(d.length);
                        for (double v : d) out.writeDouble(v);
                    }
                    case long[] l -> {
                        out.writeByte('L');
                        out.writeInt(l.length);
                        for (long v : l) out.writeLong(v);
                    }
                    case String s -> {
                        out.writeByte('S');
                        out.writeUTF(s);
                    }
                    default -> throw new IllegalStateException("unsupported entry " + e.getKey());
                }
            }
            out.flush();
            byte[] body = bytes.toByteArray();
            CRC32 crc = new CRC32();
            crc.update(body);
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer all = ByteBuffer.wrap(body), check = ByteBuffer.allocate(Long.BYTES).putLong(0, crc.getValue());
                while (all.hasRemaining()) ch.write(all);
                while (check.hasRemaining()) ch.write(check);
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads and verifies an archive; a foreign, truncated or corrupted file is a clear IllegalArgumentException. */
    public static TensorArchive read(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
        }
        if (all.length < MAGIC.length || !java.util.Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new IllegalArgumentException(file + " is not a dmerl archive (bad magic)");
        }
        if (all.length < MAGIC.length + 16) {
            throw new IllegalArgumentException(file + " is corrupted (truncated to " + all.length + " bytes)");
        }
        CRC32 crc = new CRC32();
        crc.update(all, 0, all.length - 8);
        long stored = ByteBuffer.wrap(all, all.length - 8, 8).getLong();
        if (stored != crc.getValue()) throw new IllegalArgumentException(file + " is corrupted (checksum mismatch)");
        TensorArchive a = new TensorArchive();
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(all, 0, all.length - 8))) {
            in.skipNBytes(MAGIC.length);
            int version = in.readInt();
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException(file + " has archive format " + version + "; this dmerl reads " + FORMAT_VERSION);
            }
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                int type = in.readByte();
                switch (type) {
                    case 'F' -> {
                        int rows = in.readInt(), cols = in.readInt(), len = in.readInt();
                        float[] v = new float[len];
                        for (int j = 0; j < len; j++) v[j] = in.readFloat();
                        a.entries.put(name, new float[][] {{rows, cols}, v});
                    }
                    case 'D' -> {
                        double[] v = new double[in.readInt()];
                        for (int j = 0; j < v.length; j++) v[j] = in.readDouble();
                        a.entries.put(name, v);
                    }
                    case 'L' -> {
                        long[] v = new long[in.readInt()];
                        for (int j = 0; j < v.length; j++) v[j] = in.readLong();
                        a.entries.put(name, v);
                    }
                    case 'S' -> a.entries.put(name, in.readUTF());
                    default -> throw new IllegalArgumentException(file + " is corrupted (entry type " + type + ")");
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " is corrupted: " + e.getMessage());
        }
        return a;
    }
}
