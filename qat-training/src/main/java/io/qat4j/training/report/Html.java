package io.qat4j.training.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The few HTML building blocks the report needs: escaping, numbers as text, and tables. Every piece of text that
 * reaches the page goes through {@link #esc(String)} (directly or through {@link Table}); markup is only ever built
 * from constants here and in {@link HtmlReport}.
 */
final class Html {
    /** The text shown for a missing value. */
    static final String NONE = "–";

    private Html() {
    }

    /**
     * Escapes text for an HTML element body or a double- or single-quoted attribute value: {@code & < > " '}. A null
     * becomes the empty string.
     */
    static String esc(String text) {
        if (text == null) {
            return "";
        }
        StringBuilder sb = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String r = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '"' -> "&quot;";
                case '\'' -> "&#39;";
                default -> null;
            };
            if (r != null && sb == null) {
                sb = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (sb != null) {
                if (r != null) {
                    sb.append(r);
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? text : sb.toString();
    }

    /** An element with escaped text content, e.g. {@code el("h2", "Summary")}. */
    static String el(String tag, String text) {
        return "<" + tag + ">" + esc(text) + "</" + tag + ">";
    }

    /** A fraction as a percentage with two decimals ({@code 0.9712} gives {@code 97.12%}); NaN gives {@link #NONE}. */
    static String pct(double fraction) {
        return Double.isFinite(fraction) ? String.format(Locale.ROOT, "%.2f%%", 100 * fraction) : NONE;
    }

    /** A number with 4 significant digits; NaN gives {@link #NONE}. */
    static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4g", v) : NONE;
    }

    /** An integer with thousands separators. */
    static String count(long v) {
        return String.format(Locale.ROOT, "%,d", v);
    }

    /** Seconds as {@code 1h02m03s}, {@code 2m05s} or {@code 12.3s}; NaN gives {@link #NONE}. */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds)) {
            return NONE;
        }
        long s = Math.round(seconds);
        if (s < 60) {
            return String.format(Locale.ROOT, "%.1fs", seconds);
        }
        return s < 3600 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60)
                : String.format(Locale.ROOT, "%dh%02dm%02ds", s / 3600, s / 60 % 60, s % 60);
    }

    /** An {@code <img>} showing PNG bytes inline (a base64 data URI), with escaped alternative text. */
    static String pngImage(byte[] png, String alt) {
        return "<img class=\"chart\" alt=\"" + esc(alt) + "\" src=\"data:image/png;base64,"
                + java.util.Base64.getEncoder().encodeToString(png) + "\">";
    }

    /**
     * A table of text cells, escaped when rendered; a header of empty strings gives a table without a header row. Cells can carry a CSS class ({@link #cell(String, String)}), and
     * an inline background colour ({@link #shaded(String, double)}) for heat maps.
     */
    static final class Table {
        private final List<String> header;
        private final List<List<Cell>> rows = new ArrayList<>();
        private String cssClass = "";

        private record Cell(String text, String cssClass, String style) {
        }

        Table(String... header) {
            this.header = Arrays.asList(header);
        }

        /** Sets the table's CSS class. */
        Table css(String cssClass) {
            this.cssClass = cssClass;
            return this;
        }

        /** Adds a row of plain text cells. */
        Table row(String... cells) {
            return row(Arrays.stream(cells).map(Html::cell).toArray(Object[]::new));
        }

        /** Adds a row of cells made with {@link #cell}, {@link #shaded} or plain strings. */
        Table row(Object... cells) {
            List<Cell> r = new ArrayList<>();
            for (Object c : cells) {
                r.add(c instanceof Cell cell ? cell : new Cell(String.valueOf(c), "", ""));
            }
            rows.add(r);
            return this;
        }

        int size() {
            return rows.size();
        }

        /** The table's markup. */
        String render() {
            StringBuilder sb = new StringBuilder("<table").append(cssClass.isEmpty() ? "" : " class=\"" + esc(cssClass) + "\"")
                    .append(">\n");
            if (header.stream().anyMatch(h -> !h.isEmpty())) {
                sb.append("<thead><tr>");
                header.forEach(h -> sb.append(el("th", h)));
                sb.append("</tr></thead>\n");
            }
            sb.append("<tbody>\n");
            for (List<Cell> r : rows) {
                sb.append("<tr>");
                for (Cell c : r) {
                    sb.append("<td").append(c.cssClass().isEmpty() ? "" : " class=\"" + esc(c.cssClass()) + "\"")
                            .append(c.style().isEmpty() ? "" : " style=\"" + esc(c.style()) + "\"").append('>')
                            .append(esc(c.text())).append("</td>");
                }
                sb.append("</tr>\n");
            }
            return sb.append("</tbody></table>\n").toString();
        }
    }

    /** A cell with a CSS class (e.g. {@code num} for right-aligned numbers). */
    static Object cell(String text, String cssClass) {
        return new Table.Cell(text, cssClass, "");
    }

    private static Object cell(String text) {
        return new Table.Cell(text, "", "");
    }

    /**
     * A right-aligned cell whose background is blue with opacity {@code weight} (clamped to [0, 1]) and whose text
     * turns white on dark backgrounds.
     */
    static Object shaded(String text, double weight) {
        double w = Double.isFinite(weight) ? Math.max(0, Math.min(1, weight)) : 0;
        String style = String.format(Locale.ROOT, "background:rgba(31,94,168,%.3f)%s", w, w > 0.55 ? ";color:#fff" : "");
        return new Table.Cell(text, "num", style);
    }
}
