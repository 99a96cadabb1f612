package org.dmerl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorArchiveTest {

    /** An archive with one entry of every type, including edge values. */
    private static TensorArchive sample() {
        return new TensorArchive()
                .putTensor("w", Tensor.of(2, 3, 1f, -2.5f, 3.25f, Float.MIN_VALUE, -0f, Float.MAX_VALUE))
                .putTensors("net", List.of(Tensor.of(1, 2, 7f, 8f), Tensor.of(3, 1, 0.1f, 0.2f, 0.3f)))
                .putDoubles("d", new double[] {Math.PI, -1e-300, Double.NaN, Double.NEGATIVE_INFINITY})
                .putDoubles("empty", new double[0])
                .putLongs("l", new long[] {Long.MIN_VALUE, -1, 0, 42, Long.MAX_VALUE})
                .putString("s", "héllo wörld ∑ \n tab\t")
                .putString("blank", "");
    }

    private static Path written(Path dir) {
        Path f = dir.resolve("a.ckpt");
        sample().write(f);
        return f;
    }

    @Test
    void roundTripKeepsEveryValueBitForBit(@TempDir Path dir) {
        TensorArchive a = TensorArchive.read(written(dir));

        Tensor w = Tensor.zeros(2, 3);
        a.readTensor("w", w);
        assertArrayEquals(new float[] {1f, -2.5f, 3.25f, Float.MIN_VALUE, -0f, Float.MAX_VALUE}, w.toArray());
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(w.toArray()[4]), "-0 keeps its sign");

        Tensor n0 = Tensor.zeros(1, 2), n1 = Tensor.zeros(3, 1);
        a.readTensors("net", List.of(n0, n1));
        assertArrayEquals(new float[] {7f, 8f}, n0.toArray());
        assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f}, n1.toArray());
        assertArrayEquals(new long[] {2}, a.getLongs("net/count"));

        double[] d = a.getDoubles("d");
        assertEquals(4, d.length);
        assertEquals(Math.PI, d[0]);
        assertEquals(-1e-300, d[1]);
        assertTrue(Double.isNaN(d[2]));
        assertEquals(Double.NEGATIVE_INFINITY, d[3]);
        assertEquals(0, a.getDoubles("empty").length);
        assertArrayEquals(new long[] {Long.MIN_VALUE, -1, 0, 42, Long.MAX_VALUE}, a.getLongs("l"));
        assertEquals("héllo wörld ∑ \n tab\t", a.getString("s"));
        assertEquals("", a.getString("blank"));
        assertTrue(a.contains("w") && !a.contains("nope"));
    }

    @Test
    void gettersRejectMissingOrMistypedEntries(@TempDir Path dir) {
        TensorArchive a = TensorArchive.read(written(dir));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> a.getDoubles("nope")).getMessage().contains("'nope'"));
        assertThrows(IllegalArgumentException.class, () -> a.getLongs("d"));
        assertThrows(IllegalArgumentException.class, () -> a.getString("l"));
        assertThrows(IllegalArgumentException.class, () -> a.readTensor("s", Tensor.zeros(1, 1)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> a.readTensors("net", List.of(Tensor.zeros(1, 2))));
        assertTrue(e.getMessage().contains("2") && e.getMessage().contains("1"), e.getMessage());
    }

    @Test
    void storedArraysAreCopies(@TempDir Path dir) {
        double[] d = {1, 2};
        long[] l = {3, 4};
        TensorArchive a = new TensorArchive().putDoubles("d", d).putLongs("l", l);
        d[0] = 99;
        l[0] = 99;
        assertEquals(1, a.getDoubles("d")[0]);
        assertEquals(3, a.getLongs("l")[0]);
        a.getDoubles("d")[1] = 99;
        assertEquals(2, a.getDoubles("d")[1]);
    }

    @Test
    void everyFlippedByteIsDetected(@TempDir Path dir) throws Exception {
        Path f = written(dir);
        byte[] good = Files.readAllBytes(f);
        Path bad = dir.resolve("bad.ckpt");
        int magicLength = "DMERLARC".length();
        for (int i = 0; i < good.length; i++) {
            for (int mask : new int[] {0x01, 0x80, 0xFF}) {
                byte[] b = good.clone();
                b[i] ^= (byte) mask;
                Files.write(bad, b);
                int pos = i;
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorArchive.read(bad),
                        "flip at byte " + pos + " of " + good.length + " went unnoticed");
                String m = e.getMessage();
                assertTrue(m.contains(bad.toString()), m);
                if (i < magicLength) {
                    // a damaged magic is indistinguishable from a foreign file
                    assertTrue(m.contains("corrupted") || m.contains("not a dmerl archive"), "byte " + i + ": " + m);
                } else {
                    assertTrue(m.contains("corrupted"), "byte " + i + ": " + m);
                }
            }
        }
    }

    @Test
    void foreignFilesAreNotArchives(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "steps: 1000\nalgo: sac\nthis is a YAML file, not a checkpoint at all\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorArchive.read(text));
        assertTrue(e.getMessage().contains("not a dmerl archive") && e.getMessage().contains("notes.txt"), e.getMessage());

        Path empty = dir.resolve("empty.ckpt");
        Files.write(empty, new byte[0]);
        e = assertThrows(IllegalArgumentException.class, () -> TensorArchive.read(empty));
        assertTrue(e.getMessage().contains("empty.ckpt"), e.getMessage());

        Path missing = dir.resolve("missing.ckpt");
        e = assertThrows(IllegalArgumentException.class, () -> TensorArchive.read(missing));
        assertTrue(e.getMessage().contains("cannot read") && e.getMessage().contains("missing.ckpt"), e.getMessage());

        Path folder = Files.createDirectory(dir.resolve("folder.ckpt"));
        assertThrows(IllegalArgumentException.class, () -> TensorArchive.read(folder));
    }

    @Test
    void truncatedFilesAreAClearError(@TempDir Path dir) throws Exception {
        byte[] good = Files.readAllBytes(written(dir));
        Path cut = dir.resolve("cut.ckpt");
        for (int len = 0; len < good.length; len++) {
            Files.write(cut, java.util.Arrays.copyOf(good, len));
            int n = len;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorArchive.read(cut),
                    "truncation to " + n + " of " + good.length + " bytes went unnoticed");
            String m = e.getMessage();
            assertTrue(m.contains("cut.ckpt"), m);
            if (len >= "DMERLARC".length()) {
                // the file starts like an archive: it is a damaged one, not a foreign file
                assertTrue(m.contains("corrupted") || m.contains("truncated"), len + " bytes: " + m);
            }
        }
    }

    @Test
    void shapeMismatchNamesBothShapes(@TempDir Path dir) {
        TensorArchive a = TensorArchive.read(written(dir));
        Tensor wrong = Tensor.zeros(3, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.readTensor("w", wrong));
        String m = e.getMessage();
        assertTrue(m.contains("'w'") && m.contains("[2, 3]") && m.contains("[3, 2]"), m);
        assertArrayEquals(new float[6], wrong.toArray(), "a rejected read leaves the target untouched");
    }

    @Test
    void writeLeavesNoTempFileAndReplacesAtomically(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("x.ckpt");
        TensorArchive big = new TensorArchive().putDoubles("v", new double[10_000]).putString("which", "old");
        big.write(f);
        byte[] oldBytes = Files.readAllBytes(f);
        assertEquals(List.of(f.getFileName().toString()), names(dir));

        // A stale temp file of a crashed writer does not get in the way.
        Files.writeString(dir.resolve("x.ckpt.tmp"), "garbage of a crashed writer");

        try (InputStream reader = Files.newInputStream(f)) {
            new TensorArchive().putString("which", "new").write(f);
            // The old file was replaced by a rename, not rewritten in place: an open reader still sees all of it.
            assertArrayEquals(oldBytes, reader.readAllBytes());
        }
        TensorArchive back = TensorArchive.read(f);
        assertEquals("new", back.getString("which"));
        assertFalse(back.contains("v"), "a shorter archive fully replaces a longer one");
        assertEquals(List.of(f.getFileName().toString()), names(dir), "no .tmp file left behind");
    }

    @Test
    void writeIntoAMissingDirectoryFailsClearly(@TempDir Path dir) {
        Path f = dir.resolve("no/such/dir/x.ckpt");
        var e = assertThrows(java.io.UncheckedIOException.class, () -> sample().write(f));
        assertTrue(e.getMessage().contains("x.ckpt"), e.getMessage());
    }

    private static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void archiveIsDeterministicBytes(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        sample().write(a);
        sample().write(b);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertArrayEquals("DMERLARC".getBytes(StandardCharsets.US_ASCII),
                java.util.Arrays.copyOf(Files.readAllBytes(a), 8));
    }
}
