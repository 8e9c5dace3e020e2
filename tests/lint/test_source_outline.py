from iacforge.hcl.outline import outline


def test_blocks_spans_labels_and_direct_attributes():
    text = (
        'resource "aws_s3_bucket" "b" {\n'   # 1
        "  bucket = \"x\"\n"                 # 2
        "  tags = {\n"                       # 3
        "    nested = 1\n"                   # 4
        "  }\n"                              # 5
        "  lifecycle {\n"                    # 6
        "    prevent_destroy = true\n"       # 7
        "  }\n"                              # 8
        "}\n"                                # 9
        "locals { a = 1 }\n"                 # 10
    )
    first, second = outline(text).blocks
    assert (first.kind, first.labels, first.start, first.end) == (
        "resource", ("aws_s3_bucket", "b"), 1, 9)
    assert first.attributes == {"bucket": 2, "tags": 3}
    assert (second.kind, second.start, second.end) == ("locals", 10, 10)
    assert second.attributes == {"a": 10}


def test_braces_and_quotes_inside_strings_comments_and_heredocs_do_not_count():
    text = (
        "locals {\n"                                   # 1
        '  a = "}{ \\" ${ {x = "}"}.x }"\n'           # 2
        "  # } comment\n"                              # 3
        "  /* }\n"                                     # 4
        "  } */\n"                                     # 5
        "  b = <<-EOT\n"                               # 6
        "    } ${ \"{\" }\n"                           # 7
        "    EOT\n"                                    # 8
        "  c = 3\n"                                    # 9
        "}\n"                                          # 10
    )
    [block] = outline(text).blocks
    assert (block.start, block.end) == (1, 10)
    assert block.attributes == {"a": 2, "b": 6, "c": 9}


def test_interpolation_only_strings():
    cases = {
        '"${var.a}"': True,
        '"${f("}", {k = "v"})}"': True,
        '"${var.a}-x"': False,
        '"x-${var.a}"': False,
        '"${var.a}${var.b}"': False,
        '"$${var.a}"': False,
        '"%{if true}y%{endif}"': False,
        '"plain"': False,
    }
    for value, bare in cases.items():
        found = outline(f"locals {{\n  v = {value}\n}}\n").interpolation_only
        assert found == (((2, 7),) if bare else ()), value


def test_address_at_names_the_local_or_the_block():
    text = 'locals {\n  a = 1\n  b = {\n    c = 2\n  }\n}\noutput "o" {\n  value = 1\n}\n'
    source = outline(text)
    assert [source.address_at(n) for n in (2, 4, 8, 10)] == [
        "local.a", "local.b", "output.o", None]
