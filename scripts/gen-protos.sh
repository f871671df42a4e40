#!/bin/sh
# Regenerates the Swift of our two .proto files: Prometheus' exposition
# (Sources/Core/ProtobufExposition/metrics.proto) and OTLP's metrics export
# (Sources/Core/OTLPMetrics/otlp_metrics.proto). Needs protoc (Debian's protobuf-compiler) and
# protoc-gen-swift of the swift-protobuf version Package.swift names, e.g. built by:
#   git clone /opt/swift-packages/apple/swift-protobuf.git && cd swift-protobuf &&
#   git checkout 1.39.0 && swift build -c release --product protoc-gen-swift
# usage: scripts/gen-protos.sh PATH/TO/protoc-gen-swift
set -eu
plugin=${1:?usage: scripts/gen-protos.sh PATH/TO/protoc-gen-swift}
root="$(dirname "$0")/../Sources/Core"
for proto in ProtobufExposition/metrics_histogram.proto ProtobufExposition/metrics.proto OTLPMetrics/otlp_common.proto OTLPMetrics/otlp_histograms.proto OTLPMetrics/otlp_exponential.proto OTLPMetrics/otlp_metric.proto OTLPMetrics/otlp_metrics.proto; do
	dir="$root/$(dirname "$proto")"
	protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public --swift_out="$dir" -I "$dir" "$root/$proto"
done
