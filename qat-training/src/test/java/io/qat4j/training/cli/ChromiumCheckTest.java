package io.qat4j.training.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rendering check itself: under the reports' Content-Security-Policy, a page that refers to anything but inline
 * data (an external or a local image) produces console lines that {@link Chromium} picks up, and a blank page is
 * seen as blank; so an empty console and a drawn screenshot of a report mean something.
 */
class ChromiumCheckTest {
    private static final String HEAD = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta http-equiv=\""
            + "Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
            + "<title>t</title></head><body>";

    @Test
    void blockedResourcesShowUpAsConsoleMessagesAndBlankPagesAsBlank(@TempDir Path tmp) throws Exception {
        Path chromium = Chromium.executable().orElse(null);
        if (chromium == null) {
            System.err.println("SKIPPED: " + Chromium.missingMessage());
        }
        Assumptions.assumeTrue(chromium != null, Chromium::missingMessage);
        Path bad = tmp.resolve("bad.html");
        Files.writeString(bad, HEAD + "<p>x</p><img src=\"https://example.invalid/x.png\"><img src=\"missing.png\">"
                + "</body></html>");
        Chromium.Shot shot = Chromium.screenshot(chromium, bad, tmp.resolve("bad.png"));
        assertEquals(2, shot.consoleMessages().size(), shot.toString());
        assertTrue(shot.consoleMessages().get(0).contains("example.invalid"), shot.toString());

        Path blank = tmp.resolve("blank.html");
        Files.writeString(blank, HEAD + "</body></html>");
        Chromium.Shot empty = Chromium.screenshot(chromium, blank, tmp.resolve("blank.png"));
        assertTrue(empty.consoleMessages().isEmpty(), empty.toString());
        assertEquals(Chromium.WIDTH, empty.width());
        assertFalse(empty.drawnFraction() > 0.001, "a blank page must not count as drawn: " + empty);
    }
}
