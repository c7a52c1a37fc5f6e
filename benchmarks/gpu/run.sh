#!/usr/bin/env bash
# The engine measured on a CUDA machine with no network: build llama-cpp-python with CUDA
# from a source tarball, make a random-weight model of the test model's shape (speed depends
# on the shape, not on the weights), run the engine benchmarks on it, copy the results to OUT.
#
# Usage: benchmarks/gpu/run.sh SDIST.tar.gz CONFIG_DIR WHEEL_DIR OUT [LABEL]
#   SDIST.tar.gz  llama-cpp-python's source (its vendored llama.cpp converts the model)
#   CONFIG_DIR    config.json and tokenizer files of the test model's Hugging Face form
#   WHEEL_DIR     wheels of what the machine lacks (platformdirs, diskcache)
# Run from the repository root. Needs python3 with torch, transformers, scikit-build-core,
# cmake and nvcc (a CUDA machine's usual image).
set -uo pipefail
sdist=$1 config=$2 wheels=$3 out=$4 label=${5:-gpu}
py=${PYTHON:-python3}
start=$SECONDS
say() { echo "[$((SECONDS - start)) s] $*"; }
site=/tmp/s1desk-site src=/tmp/s1desk-src
mkdir -p "$site" "$out"
$py -m pip install -q --upgrade --no-index --no-deps --no-compile --target "$site" "$wheels"/*.whl || exit 1
export PYTHONPATH="$PWD:$site${PYTHONPATH:+:$PYTHONPATH}"
command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
if ! $py -c "import llama_cpp, sys; sys.exit(not llama_cpp.llama_supports_gpu_offload())" 2>/dev/null; then
    rm -rf "$src" && mkdir -p "$src" && tar xzf "$sdist" -C "$src"
    say "building llama-cpp-python with CUDA (sm_90, no flash-attention kernels)"
    CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_CUDA_FA=OFF -DGGML_CUDA_NCCL=OFF -DLLAVA_BUILD=OFF" \
        CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
        $py -m pip install --no-build-isolation --no-deps --no-compile --target "$site" "$src"/llama_cpp_python-* \
        >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
fi
say "llama-cpp-python $($py -c 'import llama_cpp; print(llama_cpp.__version__)') with GPU offload"
model=/tmp/s1desk-test-shape-q8_0.gguf
if [ ! -f $model ]; then
    $py benchmarks/gpu/make_model.py "$config" "$(echo "$src"/llama_cpp_python-*)/vendor/llama.cpp" $model \
        >"$out/model.log" 2>&1 || { tail -30 "$out/model.log"; exit 1; }
fi
say "model: $(du -h $model | cut -f1)"
export S1DESK_BENCH_MODEL=$model PYTHONUNBUFFERED=1
note="random weights in the test model's shape, q8_0; all layers on the GPU"
$py benchmarks/decode_throughput.py --rounds 3 --tokens 512 --label "$label" --note "$note" | tail -25
say "decode done"
$py benchmarks/engine_cold_start.py --rounds 3 --label "$label" --note "$note" | tail -20
say "cold start done"
# (wait_cost.py needs a model that wants to stop thinking: random weights never do.)
cp benchmarks/results/*-"$label".json "$out"/
