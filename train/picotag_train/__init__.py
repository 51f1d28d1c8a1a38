"""picotag training: FP32 and LSQ quantization-aware ResNets, calibration,
export to the picotag model file and the integer reference."""
