//! The SVG chart of the report: for every row, one bar per column showing that column's
//! cost relative to waza's on a log scale (right of 1: slower or bigger than waza). Drawn
//! with plotters' SVG backend and its built-in text layout, so no system fonts are needed.

use std::path::Path;

use plotters::prelude::*;
use waza_benches::report::Table;

/// Bar colours, one per non-baseline column.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
];

/// Height of one bar, in pixels.
const BAR: u32 = 9;

/// Writes the chart of `table` to `path`.
///
/// # Errors
///
/// plotters' error (as text) if drawing or writing fails.
pub fn draw(table: &Table, path: &Path) -> Result<(), String> {
    let rows: Vec<&str> = table.rows().collect();
    let peers: Vec<&String> = table.columns().iter().skip(1).collect();
    // Each bar is the column's cost ÷ waza's: the inverse of the table's ratio.
    let relative =
        |row: &str, col: &str| table.ratio(row, col).filter(|r| *r > 0.0).map(|r| 1.0 / r);
    let (mut lo, mut hi) = (0.5f64, 2.0f64);
    for row in &rows {
        for col in &peers {
            if let Some(v) = relative(row, col) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    let (lo, hi) = (lo / 1.2, hi * 1.2);
    let group = BAR * peers.len() as u32 + 12;
    // Room under the last row for the legend, one line per column.
    let legend_rows = ((22 * peers.len() as u32 + 20) as f64 / group as f64).ceil();
    let height = 100 + group * (rows.len() as u32 + legend_rows as u32);
    let ticks: Vec<f64> = [
        0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0,
    ]
    .into_iter()
    .filter(|t| (lo..=hi).contains(t))
    .collect();
    let root = SVGBackend::new(path, (1100, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = rows.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "cost relative to waza (log scale; right of 1 = slower or bigger than waza)",
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(300)
        .build_cartesian_2d((lo..hi).log_scale().with_key_points(ticks), -legend_rows..n)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&|v| format!("{v}×"))
        .draw()
        .map_err(|e| e.to_string())?;
    // Row i occupies y in [n - i - 1, n - i): the first row at the top.
    let slot = 1.0 / (peers.len() as f64 + 1.0);
    for (k, col) in peers.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let bars: Vec<_> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, row)| {
                let v = relative(row, col)?;
                let top = n - i as f64 - slot * (k as f64 + 0.5);
                let bottom = top - slot * 0.9;
                Some(Rectangle::new([(1.0, bottom), (v, top)], color.filled()))
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(|e| e.to_string())?
            .label(col.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(1.0, 0.0), (1.0, n)],
            BLACK.stroke_width(1),
        )))
        .map_err(|e| e.to_string())?;
    // Row names in the label area, centred on their group.
    for (i, row) in rows.iter().enumerate() {
        let (_, y) = chart.backend_coord(&(lo, n - i as f64 - 0.5));
        root.draw(&Text::new(
            row.to_string(),
            (8, y - 6),
            ("sans-serif", 12).into_font(),
        ))
        .map_err(|e| e.to_string())?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}
