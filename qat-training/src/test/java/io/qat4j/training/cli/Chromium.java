package io.qat4j.training.cli;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Renders a local HTML file in headless Chromium (Debian package {@code chromium}) and reads back what happened: the
 * screenshot's size and how much of it is drawn, and the page's console messages, which Chromium writes to stderr
 * with {@code --enable-logging=stderr --v=0} as lines containing {@code :CONSOLE}. The reports have no script, so
 * any console message is the browser complaining (a resource blocked by the page's Content-Security-Policy, a load
 * that failed).
 */
final class Chromium {
    static final int WIDTH = 1280;
    static final int HEIGHT = 2400;
    /** Where Chromium is looked for ({@code QAT_CHROMIUM} overrides). */
    static final List<String> CANDIDATES = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser");

    /**
     * What a rendering produced.
     *
     * @param width           screenshot width in pixels
     * @param height          screenshot height in pixels
     * @param drawnFraction   fraction of pixels that are not (near) white
     * @param colorFraction   fraction of pixels with a clear colour (charts, shading), not grey
     * @param consoleMessages the page's console lines from Chromium's log
     * @param command         the command that ran
     */
    record Shot(int width, int height, double drawnFraction, double colorFraction, List<String> consoleMessages,
                List<String> command) {
    }

    private Chromium() {
    }

    /** The Chromium executable, if installed. */
    static Optional<Path> executable() {
        String env = System.getenv("QAT_CHROMIUM");
        if (env != null && !env.isBlank()) {
            return Optional.of(Path.of(env)).filter(Files::isExecutable);
        }
        return CANDIDATES.stream().map(Path::of).filter(Files::isExecutable).findFirst();
    }

    /** The message a test shows when it skips for want of Chromium. */
    static String missingMessage() {
        return "Chromium is not installed (looked for " + String.join(", ", CANDIDATES) + " and $QAT_CHROMIUM): the "
                + "HTML rendering check is SKIPPED. Install it with 'apt-get install -y chromium' (.ci/run does).";
    }

    /** Takes a {@link #WIDTH} x {@link #HEIGHT} screenshot of {@code html} into {@code png}, with a fresh profile. */
    static Shot screenshot(Path chromium, Path html, Path png) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("qat-chromium-profile");
        Path log = Files.createTempFile("qat-chromium", ".log");
        try {
            List<String> cmd = List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile, "--enable-logging=stderr",
                    "--v=0", "--screenshot=" + png.toAbsolutePath(), "--window-size=" + WIDTH + "," + HEIGHT,
                    html.toAbsolutePath().toUri().toString());
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("Chromium did not finish within 120 s: " + String.join(" ", cmd));
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            if (p.exitValue() != 0 || !Files.isRegularFile(png)) {
                throw new IOException("Chromium failed (exit " + p.exitValue() + "): " + String.join(" ", cmd) + "\n" + out);
            }
            List<String> console = new ArrayList<>();
            out.lines().filter(l -> l.contains(":CONSOLE")).forEach(console::add);
            BufferedImage img = ImageIO.read(png.toFile());
            long drawn = 0;
            long color = 0;
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    int rgb = img.getRGB(x, y);
                    int r = rgb >> 16 & 0xff;
                    int g = rgb >> 8 & 0xff;
                    int b = rgb & 0xff;
                    if (Math.min(r, Math.min(g, b)) < 235) {
                        drawn++;
                    }
                    if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
                        color++;
                    }
                }
            }
            double n = (double) img.getWidth() * img.getHeight();
            return new Shot(img.getWidth(), img.getHeight(), drawn / n, color / n, console, cmd);
        } finally {
            Files.deleteIfExists(log);
            try (Stream<Path> s = Files.walk(profile)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
