//! How long an uploaded audio file plays, for pricing a transcription whose answer does not
//! say (`json`, `text`, `srt`, `vtt`): LiteLLM reads it with `soundfile`. Read from the
//! headers only: WAV (RIFF `fmt ` and `data` chunks) exactly, MP3 from its first frame's
//! bit rate (exact for constant bit rates, the `Xing`/`Info` frame count when present).
//! Other containers: unknown (None), and the call is priced at 0 seconds, as LiteLLM prices
//! a file `soundfile` cannot read.

pub fn seconds(data: &[u8]) -> Option<f64> {
    if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WAVE" {
        return wav(data);
    }
    mp3(data)
}

fn u32le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn wav(data: &[u8]) -> Option<f64> {
    let mut pos = 12;
    let mut byte_rate = None;
    while pos + 8 <= data.len() {
        let id = &data[pos..pos + 4];
        let size = u32le(data, pos + 4)? as usize;
        let body = pos + 8;
        match id {
            b"fmt " => byte_rate = u32le(data, body + 8),
            b"data" => {
                let rate = byte_rate.filter(|r| *r > 0)? as f64;
                // A streamed WAV may carry a placeholder size: what is there is what plays.
                let size = size.min(data.len().saturating_sub(body));
                return Some(size as f64 / rate);
            }
            _ => {}
        }
        pos = body.checked_add(size)?.checked_add(size & 1)?;
    }
    None
}

fn mp3(data: &[u8]) -> Option<f64> {
    let mut start = 0;
    // ID3v2 tag: 10 bytes of header, a synch-safe size.
    if data.len() >= 10 && &data[..3] == b"ID3" {
        let size = data[6..10]
            .iter()
            .fold(0usize, |acc, b| (acc << 7) | (*b & 0x7f) as usize);
        start = 10 + size;
    }
    let h = data.get(start..start + 4)?;
    if h[0] != 0xff || h[1] & 0xe0 != 0xe0 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    let layer = (h[1] >> 1) & 3; // 1: layer III
    if layer != 1 || version == 1 {
        return None;
    }
    const V1: [u32; 16] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
    ];
    const V2: [u32; 16] = [
        0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0,
    ];
    let idx = (h[2] >> 4) as usize;
    let kbps = if version == 3 { V1[idx] } else { V2[idx] };
    const RATES: [[u32; 3]; 4] = [
        [11025, 12000, 8000],
        [0, 0, 0],
        [22050, 24000, 16000],
        [44100, 48000, 32000],
    ];
    let sr_idx = ((h[2] >> 2) & 3) as usize;
    if kbps == 0 || sr_idx == 3 {
        return None;
    }
    let sample_rate = RATES[version as usize][sr_idx] as f64;
    let samples_per_frame = if version == 3 { 1152.0 } else { 576.0 };
    // A VBR file's first frame counts the frames (`Xing` or `Info` after the side info).
    let mono = (h[3] >> 6) == 3;
    let side = match (version == 3, mono) {
        (true, false) => 32,
        (true, true) => 17,
        (false, false) => 17,
        (false, true) => 9,
    };
    let tag = start + 4 + side;
    if let Some(t) = data.get(tag..tag + 12) {
        if (&t[..4] == b"Xing" || &t[..4] == b"Info") && t[7] & 1 == 1 {
            let frames = u32::from_be_bytes(t[8..12].try_into().ok()?) as f64;
            return Some(frames * samples_per_frame / sample_rate);
        }
    }
    Some((data.len() - start) as f64 * 8.0 / (kbps as f64 * 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mono 16-bit PCM WAV of `secs` seconds at `rate` Hz.
    pub fn wav_file(rate: u32, secs: f64) -> Vec<u8> {
        let n = (rate as f64 * secs) as u32 * 2;
        let mut v = b"RIFF".to_vec();
        v.extend((36 + n).to_le_bytes());
        v.extend(b"WAVEfmt ");
        v.extend(16u32.to_le_bytes());
        v.extend(1u16.to_le_bytes());
        v.extend(1u16.to_le_bytes());
        v.extend(rate.to_le_bytes());
        v.extend((rate * 2).to_le_bytes());
        v.extend(2u16.to_le_bytes());
        v.extend(16u16.to_le_bytes());
        v.extend(b"data");
        v.extend(n.to_le_bytes());
        v.extend(std::iter::repeat_n(0u8, n as usize));
        v
    }

    #[test]
    fn wav_and_mp3_durations() {
        let w = wav_file(8000, 2.5);
        assert!((seconds(&w).unwrap() - 2.5).abs() < 1e-9);
        // A 128 kbps MPEG-1 layer III stream of 16000 bytes: one second.
        let mut m = vec![0xff, 0xfb, 0x90, 0x64];
        m.resize(16_000, 0);
        assert!((seconds(&m).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(seconds(b"OggS...."), None);
        assert_eq!(seconds(b""), None);
    }
}
