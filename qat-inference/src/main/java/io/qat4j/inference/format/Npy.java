package io.qat4j.inference.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes integer NumPy {@code .npy} files (format version 1.0, little-endian, C order).
 *
 * <p>Layout: magic {@code \x93NUMPY}, bytes 0x01 0x00, a little-endian uint16 header length, then an ASCII
 * Python dict {@code {'descr': '<i2', 'fortran_order': False, 'shape': (6, 1, 5, 5), }} padded with spaces
 * and a final newline so that the data starts at a multiple of 64 bytes; then the raw elements.
 * Reference: numpy.lib.format (NEP 1).
 */
public final class Npy {
  private Npy() {}

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Map<String, String> DESCR = Map.of("int8", "|i1", "int16", "<i2", "int32", "<i4");
  private static final Pattern DESCR_RE = Pattern.compile("'descr'\\s*:\\s*'([<|=>])([iu])(\\d)'");
  private static final Pattern FORTRAN_RE = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE_RE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /** Checks a dtype name: int8, int16 or int32. */
  public static void checkDtype(String dtype) {
    if (!DESCR.containsKey(dtype)) {
      throw new IllegalArgumentException("dtype '" + dtype + "' not allowed; allowed: int8, int16, int32");
    }
  }

  /** Bytes of a .npy file holding the tensor as the given dtype; values must fit the dtype. */
  public static byte[] toBytes(IntTensor t, String dtype) {
    checkDtype(dtype);
    int width = dtype.equals("int8") ? 1 : dtype.equals("int16") ? 2 : 4;
    int lo = width == 4 ? Integer.MIN_VALUE : -(1 << (8 * width - 1));
    int hi = width == 4 ? Integer.MAX_VALUE : (1 << (8 * width - 1)) - 1;
    StringBuilder shape = new StringBuilder("(");
    for (int d : t.shape()) {
      shape.append(d).append(", ");
    }
    if (t.shape().length > 1) {
      shape.setLength(shape.length() - 2);
    } else {
      shape.setLength(shape.length() - 1);
    }
    shape.append(')');
    String dict = "{'descr': '" + DESCR.get(dtype) + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
    int pad = (64 - unpadded % 64) % 64;
    String header = dict + " ".repeat(pad) + "\n";
    ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 4 + header.length() + width * t.data().length)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
    b.put(header.getBytes(StandardCharsets.US_ASCII));
    for (int v : t.data()) {
      if (v < lo || v > hi) {
        throw new IllegalArgumentException("value " + v + " does not fit dtype " + dtype + " [" + lo + ", " + hi + "]");
      }
      switch (width) {
        case 1 -> b.put((byte) v);
        case 2 -> b.putShort((short) v);
        default -> b.putInt(v);
      }
    }
    return b.array();
  }

  /** Writes the tensor as a .npy file of the given dtype. */
  public static void write(Path file, IntTensor t, String dtype) throws IOException {
    Files.write(file, toBytes(t, dtype));
  }

  /** Reads a .npy file of dtype int8/uint8/int16/uint16/int32 (little-endian or single byte, C order). */
  public static IntTensor read(Path file) throws IOException {
    return fromBytes(Files.readAllBytes(file), file.toString());
  }

  /** Parses .npy bytes (versions 1.0, 2.0 and 3.0 of the header). */
  public static IntTensor fromBytes(byte[] bytes, String what) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    for (byte m : MAGIC) {
      if (b.get() != m) {
        throw new IllegalArgumentException(what + " is not a .npy file (bad magic)");
      }
    }
    int major = b.get();
    b.get();
    int headerLen = major == 1 ? Short.toUnsignedInt(b.getShort()) : b.getInt();
    byte[] h = new byte[headerLen];
    b.get(h);
    String header = new String(h, StandardCharsets.ISO_8859_1);
    Matcher d = DESCR_RE.matcher(header);
    Matcher f = FORTRAN_RE.matcher(header);
    Matcher s = SHAPE_RE.matcher(header);
    if (!d.find() || !f.find() || !s.find()) {
      throw new IllegalArgumentException(what + ": cannot parse .npy header " + header.trim());
    }
    int width = Integer.parseInt(d.group(3));
    boolean unsigned = d.group(2).equals("u");
    if (d.group(1).equals(">") && width > 1 || !(width == 1 || width == 2 || width == 4) || unsigned && width == 4) {
      throw new IllegalArgumentException(what + ": dtype '" + d.group(1) + d.group(2) + width
          + "' not allowed; allowed: |i1 |u1 <i2 <u2 <i4");
    }
    if (f.group(1).equals("True")) {
      throw new IllegalArgumentException(what + ": fortran_order True not allowed; allowed: False (C order)");
    }
    List<Integer> dims = new ArrayList<>();
    for (String part : s.group(1).split(",")) {
      if (!part.isBlank()) {
        dims.add(Integer.parseInt(part.trim()));
      }
    }
    int[] shape = dims.isEmpty() ? new int[] {1} : dims.stream().mapToInt(Integer::intValue).toArray();
    long n = 1;
    for (int dim : shape) {
      n *= dim;
    }
    int[] data = new int[(int) n];
    for (int i = 0; i < n; i++) {
      data[i] = switch (width) {
        case 1 -> unsigned ? Byte.toUnsignedInt(b.get()) : b.get();
        case 2 -> unsigned ? Short.toUnsignedInt(b.getShort()) : b.getShort();
        default -> b.getInt();
      };
    }
    return new IntTensor(shape, data);
  }
}
