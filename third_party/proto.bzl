"""Protocol Buffers and gRPC C++ code generation with the system protoc.

Bazel 4.2.3's native proto_library would download protobuf's sources, so this
macro runs Debian's `protoc` and `grpc_cpp_plugin` in a genrule instead.

    georisk_proto_library(
        name = "graph",                      # -> graph_proto, graph_cc_proto
        srcs = ["graph.proto"],
        deps = [":common"],                  # other georisk_proto_library names
        grpc = False,                        # True also makes graph_cc_grpc
    )

Targets follow gRPC's convention: `<name>_proto` (the .proto sources, with the
sources of its deps, for other generators), `<name>_cc_proto` (messages) and
`<name>_cc_grpc` (service stubs). Imports are resolved relative to the
`import_root` folder (default "proto"), so `proto/georisk/v1/graph.proto` is
imported as "georisk/v1/graph.proto" and its header is included as
"georisk/v1/graph.pb.h".
"""

def georisk_proto_library(name, srcs, deps = [], grpc = False, import_root = "proto", visibility = None):
    pkg = native.package_name()
    if not pkg.startswith(import_root):
        fail("package %s is not under import_root %s" % (pkg, import_root))
    sub = pkg[len(import_root):].lstrip("/")
    rel = [(sub + "/" + s) if sub else s for s in srcs]
    bases = [s[:-len(".proto")] for s in srcs]

    native.filegroup(
        name = name + "_proto",
        srcs = srcs + [d + "_proto" for d in deps],
        visibility = visibility,
    )

    pb_hdrs = [b + ".pb.h" for b in bases]
    pb_srcs = [b + ".pb.cc" for b in bases]
    outs = pb_hdrs + pb_srcs
    grpc_hdrs = [b + ".grpc.pb.h" for b in bases] if grpc else []
    grpc_srcs = [b + ".grpc.pb.cc" for b in bases] if grpc else []
    outs = outs + grpc_hdrs + grpc_srcs

    # $(GENDIR)/<import_root> is where protoc writes; the files land in this package.
    cmd = " ".join([
        "protoc",
        "--proto_path=" + import_root,
        "--cpp_out=$(GENDIR)/" + import_root,
    ] + ([
        "--grpc_out=$(GENDIR)/" + import_root,
        "--plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin)",
    ] if grpc else []) + rel)

    native.genrule(
        name = name + "_gen",
        srcs = [name + "_proto"],
        outs = outs,
        cmd = cmd,
        message = "protoc %s" % name,
        visibility = ["//visibility:private"],
    )

    native.cc_library(
        name = name + "_cc_proto",
        srcs = pb_srcs,
        hdrs = pb_hdrs,
        strip_include_prefix = "/" + import_root,
        deps = [d + "_cc_proto" for d in deps] + ["@system_libs//:protobuf"],
        visibility = visibility,
    )
    if grpc:
        native.cc_library(
            name = name + "_cc_grpc",
            srcs = grpc_srcs,
            hdrs = grpc_hdrs,
            strip_include_prefix = "/" + import_root,
            deps = [name + "_cc_proto", "@system_libs//:grpc"],
            visibility = visibility,
        )
