#!/usr/bin/env bash
# Makes the embedded demo stream (committed in demo/site/media; run once, needs ffmpeg):
# 6 s of ffmpeg's test pattern with a 440 Hz tone, H.264 + AAC, fMP4 HLS in 2 s segments,
# a multivariant playlist at /demo.m3u8 and a thumbnail. Total well under 1 MB.
set -euo pipefail
cd "$(dirname "$0")/../demo/site/media"
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
du -sh .
