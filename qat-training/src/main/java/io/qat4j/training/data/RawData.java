package io.qat4j.training.data;

/**
 * Raw examples as read from disk: {@code count} images of {@code imageBytes} unsigned bytes each,
 * channel-major, plus one label byte per image.
 */
record RawData(int count, int imageBytes, byte[] pixels, byte[] labels) {

    /** Concatenates several parts with the same image size, in order. */
    static RawData concat(RawData... parts) {
        int count = 0;
        for (RawData p : parts) {
            count += p.count;
        }
        int imageBytes = parts[0].imageBytes;
        byte[] pixels = new byte[Math.multiplyExact(count, imageBytes)];
        byte[] labels = new byte[count];
        int n = 0;
        for (RawData p : parts) {
            System.arraycopy(p.pixels, 0, pixels, n * imageBytes, p.count * imageBytes);
            System.arraycopy(p.labels, 0, labels, n, p.count);
            n += p.count;
        }
        return new RawData(count, imageBytes, pixels, labels);
    }
}
