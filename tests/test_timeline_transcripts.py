"""Reading .srt, .vtt and .csv transcripts, and their syntax errors."""

import pytest

from sklearn_hser.timeline import (
    TranscriptError,
    read_transcript,
    segments_table,
    write_srt,
)

SRT = """\ufeff1
00:00:01,000 --> 00:00:02,500
<i>Hello</i> there,
second line &amp; more

2
00:01:02.25 --> 00:01:03,000 X1:10 X2:20
{\\an8}Moved up

00:01:04,000 --> 00:01:05,000
a cue without its number
"""

VTT = """WEBVTT - a title

NOTE a comment
that spans lines

intro
00:01.000 --> 00:02.000 align:start
<v Ann>Hi</v> <00:01.500>there

01:00:00.000 --> 01:00:01.500

STYLE
::cue { color: red }
"""


def test_srt_cues_times_text_and_lines(tmp_path):
    path = tmp_path / "a.srt"
    path.write_text(SRT, encoding="utf-8")
    table = read_transcript(path)
    assert list(table.columns) == ["start", "end", "text", "cue", "line"]
    assert table["start"].tolist() == [1.0, 62.25, 64.0]
    assert table["end"].tolist() == [2.5, 63.0, 65.0]
    assert table["text"].tolist() == [
        "Hello there, second line & more",
        "Moved up",
        "a cue without its number",
    ]
    assert table["cue"].tolist() == ["1", "2", "3"]
    assert table["line"].tolist() == [1, 6, 10]


def test_vtt_skips_header_notes_and_styles(tmp_path):
    path = tmp_path / "a.vtt"
    path.write_text(VTT, encoding="utf-8")
    table = read_transcript(path)
    assert table["start"].tolist() == [1.0, 3600.0]
    assert table["end"].tolist() == [2.0, 3601.5]
    assert table["text"].tolist() == ["Hi there", ""]  # the second cue is empty
    assert table["cue"].tolist() == ["intro", "2"]


def test_csv_and_srt_round_trip(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('start,end,text\n0.5,1.25,"one, two"\n2,3,\n')
    table = read_transcript(path)
    assert table[["start", "end", "text"]].values.tolist() == [
        [0.5, 1.25, "one, two"],
        [2.0, 3.0, ""],
    ]
    back = read_transcript(write_srt(table, tmp_path / "b.srt"))
    assert back[["start", "end", "text"]].equals(table[["start", "end", "text"]])


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("a.srt", "1\n00:00:01,000 -> 00:00:02,000\nhi\n", "line 2: expected a timing"),
        ("a.srt", "1\n00:00:01,000 --> 00:00:02,000\nhi\n\n7\n", "cue '7' has no"),
        ("a.srt", "1\n00:00:03,000 --> 00:00:02,000\nhi\n", "cue 1 ends (2.000 s)"),
        ("a.srt", "1\n00:00:aa,000 --> 00:00:02,000\nhi\n", "line 2"),
        ("a.vtt", "00:01.000 --> 00:02.000\nhi\n", "starts with 'WEBVTT'"),
        ("a.vtt", "WEBVTT\n\nid\n00:01.000 --> 00:0x.000\nhi\n", "line 4"),
        ("a.csv", "begin,end,text\n1,2,hi\n", "missing start"),
        ("a.csv", "start,end,text\n1,two,hi\n", "line 2: start and end must"),
        ("a.csv", "start,end,text\n3,2,hi\n", "line 2: need 0 <= start <= end"),
        ("a.txt", "hello", "unknown transcript format 'txt'"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_and_tuples(tmp_path):
    with pytest.raises(TranscriptError, match="not found"):
        read_transcript(tmp_path / "none.srt")
    table = segments_table([(0, 1), {"start": 2, "end": 3, "text": "x", "cue": "c"}])
    assert table["text"].tolist() == ["", "x"]
    assert table["cue"].tolist() == ["1", "c"]
