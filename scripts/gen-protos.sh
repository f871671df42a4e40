#!/bin/sh
# Regenerates Sources/Core/ProtobufExposition/metrics.pb.swift from metrics.proto. Needs protoc
# (Debian's protobuf-compiler) and protoc-gen-swift of the swift-protobuf version Package.swift
# names, e.g. built by: git clone /opt/swift-packages/apple/swift-protobuf.git && cd swift-protobuf
# && git checkout 1.39.0 && swift build -c release --product protoc-gen-swift
# usage: scripts/gen-protos.sh PATH/TO/protoc-gen-swift
set -eu
plugin=${1:?usage: scripts/gen-protos.sh PATH/TO/protoc-gen-swift}
dir="$(dirname "$0")/../Sources/Core/ProtobufExposition"
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public --swift_out="$dir" -I "$dir" "$dir/metrics.proto"
