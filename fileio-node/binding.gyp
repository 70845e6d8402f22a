{
  "targets": [
    {
      "target_name": "fileio_binding",
      "sources": ["src/addon.cc"],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE", "_FILE_OFFSET_BITS=64"],
      "cflags": ["<!@(pkg-config --cflags libdeflate)"],
      "libraries": ["<!@(pkg-config --libs libdeflate)"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
