"""RFC 6587 framing on bytes alone: every split of a stream gives the same frames."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hoophooks_dk.capture.syslog_framing import (
    NON_TRANSPARENT,
    OCTET_COUNTING,
    Frame,
    StreamDeframer,
)


def read(chunks: list[bytes], max_frame: int = 1 << 20) -> tuple[list[Frame], bool]:
    deframer = StreamDeframer(max_frame)
    frames = [frame for chunk in chunks for frame in deframer.feed(chunk)]
    return frames + deframer.close(), deframer.lost


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@given(
    messages=st.lists(st.tuples(st.binary(max_size=50), st.booleans()), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0), max_size=20),
)
def test_every_split_of_a_stream_gives_the_same_frames(messages, cuts):
    stream, expected = b"", []
    for body, counted in messages:
        message = b"<14>" + body
        if counted:
            stream += b"%d %s" % (len(message), message)
            expected.append(Frame(OCTET_COUNTING, message))
        else:
            line = message.replace(b"\n", b" ").replace(b"\x00", b" ").rstrip(b"\r")
            stream += line + b"\n"
            expected.append(Frame(NON_TRANSPARENT, line))

    frames, lost = read(split(stream, cuts))

    assert frames == expected and not lost


def test_trailers_crlf_nul_and_blank_lines():
    frames, _ = read([b"<1>a\r\n\n<2>b\x00<3>c\r\n", b"\r\n<4>last without trailer"])

    assert [frame.data for frame in frames] == [
        b"<1>a",
        b"<2>b",
        b"<3>c",
        b"<4>last without trailer",
    ]


def test_digits_that_are_not_a_count_are_read_to_the_line_end_and_reading_goes_on():
    frames, lost = read([b"12x <1>not counted\n0 <1>leading zero\n5 <1>ok"])

    assert [(f.data, f.error is not None) for f in frames] == [
        (b"12x <1>not counted", True),
        (b"0 <1>leading zero", True),
        (b"<1>ok", False),
    ]
    assert not lost


def test_a_stream_that_ends_inside_a_counted_frame_says_so():
    frames, _ = read([b"50 <1>only part"])

    [frame] = frames
    assert frame.framing == OCTET_COUNTING and "ended inside" in frame.error


def test_a_count_or_a_line_over_the_limit_loses_the_stream():
    counted, lost_counted = read([b"5000 <1>" + b"x" * 10, b"<1>never read\n"], max_frame=100)
    line, lost_line = read([b"<1>" + b"y" * 200, b"\n<1>never read\n"], max_frame=100)

    assert lost_counted and [f.error for f in counted] == ["octet count 5000 over 100"]
    assert lost_line and [f.error for f in line] == ["frame over 100 bytes"]
    assert len(line[0].data) == 100


def test_an_abandoned_stream_keeps_the_partial_frame_marked():
    deframer = StreamDeframer()
    assert deframer.feed(b"<1>whole\n<1>part of a") == [Frame(NON_TRANSPARENT, b"<1>whole")]

    [frame] = deframer.abandon("connection reset")

    assert frame.data == b"<1>part of a"
    assert frame.error == "connection reset before the frame ended"
    assert deframer.abandon("again") == []
