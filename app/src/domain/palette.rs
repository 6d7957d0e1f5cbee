//! Series colours shared by server-rendered charts and their HTML legends.
//!
//! Eight hues chosen to stay distinguishable and to reach at least 3:1 contrast on white
//! (WCAG 2.1 non-text contrast).

/// RGB triples, in series order.
pub const SERIES: [(u8, u8, u8); 8] = [
    (31, 95, 191),
    (214, 96, 20),
    (28, 140, 72),
    (170, 40, 120),
    (110, 80, 170),
    (150, 110, 20),
    (20, 130, 150),
    (200, 40, 40),
];

/// The CSS colour of series `i` (wrapping).
pub fn css(i: usize) -> String {
    let (r, g, b) = SERIES[i % SERIES.len()];
    format!("rgb({r},{g},{b})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
        let lin = |c: u8| {
            let c = c as f64 / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }

    #[test]
    fn every_colour_has_3_to_1_contrast_on_white() {
        for c in SERIES {
            let ratio = 1.05 / (luminance(c) + 0.05);
            assert!(ratio >= 3.0, "{c:?}: {ratio:.2}");
        }
    }

    #[test]
    fn css_wraps() {
        assert_eq!(css(0), css(8));
        assert_eq!(css(1), "rgb(214,96,20)");
    }
}
