package io.qat4j.training.report;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's HTML helpers: escaping, number formats, tables. */
class HtmlTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "plain text                       | plain text",
        "a < b && c > d                   | a &lt; b &amp;&amp; c &gt; d",
        "`<script>alert(\"x\")</script>`  | `&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;`",
        "it's                             | it&#39;s",
        "&amp;                            | &amp;amp;",
        "`T-shirt/top → ä`                | `T-shirt/top → ä`",
    })
    void escapesTheFiveSpecialCharacters(String in, String expected) {
        assertEquals(expected, Html.esc(in));
    }

    @Test
    void nullEscapesToEmpty() {
        assertEquals("", Html.esc(null));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0.97123 | 97.12%",
        "1       | 100.00%",
        "NaN     | –",
    })
    void percentages(double v, String expected) {
        assertEquals(expected, Html.pct(v));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "12.34  | 12.3s",
        "125    | 2m05s",
        "3723   | 1h02m03s",
        "NaN    | –",
    })
    void durations(double seconds, String expected) {
        assertEquals(expected, Html.duration(seconds));
    }

    @Test
    void tableEscapesHeaderCellsAndAttributes() {
        String html = new Html.Table("a<b", "c").css("x\"y").row("<i>1</i>", "2 & 3")
                .row(Html.cell("\"q\"", "num"), Html.shaded("5", 0.9)).render();
        assertTrue(html.contains("<th>a&lt;b</th>"), html);
        assertTrue(html.contains("class=\"x&quot;y\""), html);
        assertTrue(html.contains("<td>&lt;i&gt;1&lt;/i&gt;</td><td>2 &amp; 3</td>"), html);
        assertTrue(html.contains("<td class=\"num\">&quot;q&quot;</td>"), html);
        assertTrue(html.contains("style=\"background:rgba(31,94,168,0.900);color:#fff\""), html);
        assertFalse(html.contains("<i>"), html);
    }

    @Test
    void tableWithoutHeaderHasNoHeadRow() {
        String html = new Html.Table("", "").row("k", "v").render();
        assertFalse(html.contains("<thead>"), html);
        assertTrue(html.contains("<td>k</td><td>v</td>"), html);
    }

    @Test
    void shadingIsClampedToZeroAndOne() {
        assertTrue(new Html.Table("").row(Html.shaded("x", 7)).render().contains("rgba(31,94,168,1.000)"));
        assertTrue(new Html.Table("").row(Html.shaded("x", Double.NaN)).render().contains("rgba(31,94,168,0.000)"));
    }

    @Test
    void pngImagesAreInlineDataUris() {
        String img = Html.pngImage(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, "a \"chart\"");
        assertEquals("<img class=\"chart\" alt=\"a &quot;chart&quot;\" src=\"data:image/png;base64,iVBORw==\">", img);
    }
}
