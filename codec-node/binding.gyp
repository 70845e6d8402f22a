{
  "targets": [
    {
      "target_name": "codec_binding",
      "sources": [
        "src/addon.cc",
        "src/args.cc",
        "src/owned_bytes.cc",
        "src/adler32.cc",
        "src/lz4_frame.cc",
        "src/lz4_sums.c",
        "src/lz4_decode.c",
        "src/lz4_binding.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["<!@(pkg-config --cflags liblz4 libdeflate libxxhash)"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["<!@(pkg-config --libs liblz4 libdeflate libxxhash)"]
    }
  ]
}
