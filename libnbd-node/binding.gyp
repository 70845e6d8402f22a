{
  "targets": [
    {
      "target_name": "nbd_binding",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/handle.cc",
        "src/connect_worker.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["<!@(pkg-config --cflags libnbd)"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["<!@(pkg-config --libs libnbd)"]
    }
  ]
}
