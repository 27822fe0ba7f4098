package io.qat4j.training.cli;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks shared by the HTML report tests: the page is self-contained, has its sections, and its charts decode. */
final class HtmlChecks {
    static final List<String> SECTIONS = List.of("summary", "curves", "layers", "confusion", "engine", "config");
    private static final Pattern TAG = Pattern.compile("<[^>]*>");
    private static final Pattern URL_ATTR = Pattern.compile("\\b(?:src|href|srcset|action|data|poster)\\s*=\\s*\"([^\"]*)\"");
    private static final Pattern PNG = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");

    private HtmlChecks() {
    }

    /**
     * No script, no external resource: nothing in any tag refers to http(s), every URL attribute is a data URI or an
     * in-page anchor, the CSS imports nothing; http(s) may only appear in plain (escaped) text.
     */
    static void assertSelfContained(String html) {
        String lower = html.toLowerCase(java.util.Locale.ROOT);
        for (String banned : new String[] {"<script", "<link", "<iframe", "<object", "<embed", "<base", "url(",
            "@import", "javascript:"}) {
            assertFalse(lower.contains(banned), "the report must not contain " + banned);
        }
        Matcher tags = TAG.matcher(html);
        while (tags.find()) {
            String tag = tags.group().toLowerCase(java.util.Locale.ROOT);
            assertFalse(tag.contains("http://") || tag.contains("https://") || tag.contains("//www."),
                    "external reference in a tag: " + abbreviate(tag));
            Matcher attr = URL_ATTR.matcher(tag);
            while (attr.find()) {
                String v = attr.group(1);
                assertTrue(v.startsWith("data:image/png;base64,") || v.startsWith("#"), "URL attribute " + abbreviate(v));
            }
        }
        assertTrue(html.startsWith("<!DOCTYPE html>"), "doctype");
        assertTrue(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; "
                + "img-src data:; style-src &#39;unsafe-inline&#39;\">"), "Content-Security-Policy");
        assertTrue(html.trim().endsWith("</html>"), "complete document");
    }

    /** Every section has its heading. */
    static void assertSections(String html) {
        for (String id : SECTIONS) {
            assertTrue(html.contains("<h2 id=\"" + id + "\">"), "section " + id);
            assertTrue(html.contains("<a href=\"#" + id + "\">"), "link to section " + id);
        }
    }

    /** The inline charts, decoded; each must be a PNG of a plausible size. */
    static List<BufferedImage> charts(String html) throws IOException {
        List<BufferedImage> out = new ArrayList<>();
        Matcher m = PNG.matcher(html);
        while (m.find()) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(1))));
            assertNotNull(img, "chart is not a readable PNG");
            assertTrue(img.getWidth() >= 600 && img.getWidth() <= 1280 && img.getHeight() >= 300, img.toString());
            out.add(img);
        }
        return out;
    }

    /** The text of the table cells of the table with CSS class {@code cssClass}, row by row. */
    static List<List<String>> tableRows(String html, String cssClass) {
        int start = html.indexOf("<table class=\"" + cssClass + "\">");
        assertTrue(start >= 0, "table " + cssClass);
        String table = html.substring(start, html.indexOf("</table>", start));
        List<List<String>> rows = new ArrayList<>();
        Matcher tr = Pattern.compile("<tr>(.*?)</tr>", Pattern.DOTALL).matcher(table.substring(table.indexOf("<tbody>")));
        while (tr.find()) {
            List<String> cells = new ArrayList<>();
            Matcher td = Pattern.compile("<td[^>]*>(.*?)</td>", Pattern.DOTALL).matcher(tr.group(1));
            while (td.find()) {
                cells.add(td.group(1));
            }
            rows.add(cells);
        }
        return rows;
    }

    /** The one text of a summary row ({@code <td>label</td><td ...>value</td>}). */
    static String summaryValue(String html, String label) {
        for (List<String> row : tableRows(html, "kv")) {
            if (row.get(0).equals(label)) {
                assertEquals(2, row.size());
                return row.get(1);
            }
        }
        throw new AssertionError("no summary row " + label);
    }

    private static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "..." : s;
    }
}
