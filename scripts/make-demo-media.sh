#!/usr/bin/env bash
# Makes the embedded demo stream (committed in demo/site/media; run once, needs ffmpeg):
# 6 s of ffmpeg's test pattern with a 440 Hz tone, H.264 + AAC, fMP4 HLS in 2 s segments,
# a multivariant playlist at /demo.m3u8 and a thumbnail. Total well under 1 MB.
# Plus three small streams for the browser suite (test/e2e): `ts` (MPEG-TS HLS), `aes` (AES-128
# HLS, fixed test-only key) and `subs` (MPEG-TS HLS with a WebVTT subtitle rendition).
# Usage: scripts/make-demo-media.sh [demo] [ts] [aes] [subs]   (no argument: all of them)
# Each stream is removed and made again whole, so a re-run gives the same layout.
set -euo pipefail
cd "$(dirname "$0")/../demo/site/media"
STREAMS=("$@")
for s in "${STREAMS[@]}"; do case "$s" in demo | ts | aes | subs) ;; *) echo "unknown stream: $s (demo, ts, aes, subs)" >&2; exit 2 ;; esac; done
want() { [ ${#STREAMS[@]} -eq 0 ] && return 0; local s; for s in "${STREAMS[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
scratch=$(mktemp -d) && trap 'rm -rf "$scratch"' EXIT
if want demo; then
rm -rf demo demo.mpd && mkdir -p demo/360p
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=480x270:rate=24:duration=6" \
  -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=6" \
  -c:v libx264 -profile:v main -preset veryfast -b:v 250k -maxrate 300k -bufsize 600k -g 48 -keyint_min 48 -sc_threshold 0 -pix_fmt yuv420p \
  -c:a aac -b:a 48k -ac 2 \
  -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_type fmp4 \
  -hls_fmp4_init_filename init.mp4 -hls_segment_filename 'demo/360p/seg%d.m4s' \
  demo/360p/index.m3u8
# The same stream as DASH (SegmentTemplate with $Number$) at /demo.mpd, for dash.js.
mkdir -p demo/dash
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=480x270:rate=24:duration=6" \
  -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=6" \
  -c:v libx264 -profile:v main -preset veryfast -b:v 250k -g 48 -keyint_min 48 -sc_threshold 0 -pix_fmt yuv420p \
  -c:a aac -b:a 48k -ac 2 \
  -f dash -seg_duration 2 -use_template 1 -use_timeline 0 \
  -init_seg_name 'demo/dash/init-$RepresentationID$.m4s' -media_seg_name 'demo/dash/chunk-$RepresentationID$-$Number%05d$.m4s' \
  demo.mpd
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=480x270:rate=1:duration=1" -frames:v 1 -q:v 5 demo/thumbnail.jpg
cat > demo.m3u8 <<'M3U8'
#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=350000,RESOLUTION=480x270,CODECS="avc1.4d401e,mp4a.40.2"
demo/360p/index.m3u8
M3U8
fi

# The three test streams share one source: 6 s of the test pattern at 320x180 with a 660 Hz tone,
# H.264 (~100 kb/s; one encoder thread, so a re-run gives the same bytes) + AAC (32 kb/s), cut
# into 2 s MPEG-TS segments. Each has a hand-written multivariant playlist at /<id>.m3u8
# (playback ID <id>) and everything else under /<id>/. About 400 KB for the three.
SOURCE=(
  -f lavfi -i "testsrc2=size=320x180:rate=24:duration=6"
  -f lavfi -i "sine=frequency=660:sample_rate=44100:duration=6"
)
ENCODE=(
  -c:v libx264 -threads 1 -profile:v main -preset veryfast -b:v 100k -maxrate 120k -bufsize 240k -g 48 -keyint_min 48 -sc_threshold 0 -pix_fmt yuv420p
  -c:a aac -b:a 32k -ac 2
)
multivariant() { # $1 = id, $2 = extra lines before EXT-X-STREAM-INF, $3 = extra STREAM-INF attributes
  {
    printf '#EXTM3U\n#EXT-X-VERSION:3\n'
    [ -n "$2" ] && printf '%s\n' "$2"
    printf '#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION=320x180,CODECS="avc1.4d400c,mp4a.40.2"%s\n%s/180p/index.m3u8\n' "$3" "$1"
  } > "$1.m3u8"
}

# (a) ts: plain MPEG-TS HLS at /ts.m3u8.
if want ts; then
rm -rf ts ts.m3u8 && mkdir -p ts/180p
ffmpeg -hide_banner -loglevel error -y "${SOURCE[@]}" "${ENCODE[@]}" \
  -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_type mpegts \
  -hls_segment_filename 'ts/180p/seg%d.ts' \
  ts/180p/index.m3u8
multivariant ts '' ''
fi

# (b) aes: the same as AES-128 HLS at /aes.m3u8. The key is FIXED AND TEST-ONLY (committed on
# purpose: it protects nothing): 16 bytes at /aes/180p/key.bin, named by the relative URI
# "key.bin" in EXT-X-KEY so it resolves under /aes/ and gets a grant like any segment. A fixed IV
# keeps the output the same from run to run.
if want aes; then
rm -rf aes aes.m3u8 && mkdir -p aes/180p
printf '%s' 'signet-test-key!' > aes/180p/key.bin # 16 bytes: hex 7369676e65742d746573742d6b657921
printf 'key.bin\naes/180p/key.bin\n000102030405060708090a0b0c0d0e0f\n' > "$scratch/keyinfo"
ffmpeg -hide_banner -loglevel error -y "${SOURCE[@]}" "${ENCODE[@]}" \
  -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_type mpegts -hls_key_info_file "$scratch/keyinfo" \
  -hls_segment_filename 'aes/180p/seg%d.ts' \
  aes/180p/index.m3u8
multivariant aes '' ''
fi

# (c) subs: MPEG-TS HLS with a WebVTT subtitle rendition at /subs.m3u8: EXT-X-MEDIA TYPE=SUBTITLES
# pointing at its own media playlist /subs/180p/text.m3u8 with 2 s .vtt segments (ffmpeg names
# them after the video playlist: index0.vtt…). Source cues: three 2 s lines, written here.
if want subs; then
rm -rf subs subs.m3u8 && mkdir -p subs/180p
cat > "$scratch/cues.vtt" <<'VTT'
WEBVTT

00:00:00.000 --> 00:00:02.000
signet subtitle one

00:00:02.000 --> 00:00:04.000
signet subtitle two

00:00:04.000 --> 00:00:06.000
signet subtitle three
VTT
ffmpeg -hide_banner -loglevel error -y "${SOURCE[@]}" -i "$scratch/cues.vtt" -map 0:v -map 1:a -map 2:s "${ENCODE[@]}" -c:s webvtt \
  -f hls -hls_time 2 -hls_playlist_type vod -hls_segment_type mpegts \
  -var_stream_map 'v:0,a:0,s:0,sgroup:subs,name:180p' \
  -hls_segment_filename 'subs/%v/seg%d.ts' -hls_subtitle_path 'subs/%v/text.m3u8' \
  'subs/%v/index.m3u8'
multivariant subs '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=YES,AUTOSELECT=YES,URI="subs/180p/text.m3u8"' ',SUBTITLES="subs"'
fi
du -sh .
