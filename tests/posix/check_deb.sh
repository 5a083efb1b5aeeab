#!/bin/sh
# Builds the .deb with CPack from the native build folder $1 into a scratch folder and checks
# what it holds: both services, tandemctl, the model, the units, sysusers, configs as conffiles.
set -eu
build="$1"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 ||
  { cat "$out/cpack.log"; exit 1; }
deb=$(ls "$out"/tandem_*.deb)
dpkg-deb -c "$deb" | awk '{print $6}' >"$out/files"
status=0
for f in ./usr/bin/tandem-llm ./usr/bin/tandem-trainer ./usr/bin/tandemctl \
         ./usr/lib/tandem/tandem-llm ./usr/lib/tandem/tandem-trainer \
         ./usr/lib/tandem/libllama.so.0 ./usr/lib/tandem/libggml-base.so.0 \
         ./usr/lib/tandem/libggml-cpu-x64.so ./usr/lib/tandem/libggml-cpu-haswell.so \
         ./usr/share/tandem/tandem-tiny.gguf \
         ./usr/lib/systemd/system/tandem-llm.service ./usr/lib/systemd/system/tandem-trainer.service \
         ./usr/lib/sysusers.d/tandem.conf ./etc/tandem/llm-server.json ./etc/tandem/trainer.json; do
  grep -qx "$f" "$out/files" || { echo "missing from $deb: $f"; status=1; }
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$out/conffiles"
for f in /etc/tandem/llm-server.json /etc/tandem/trainer.json; do
  grep -qx "$f" "$out/conffiles" || { echo "not a conffile: $f"; status=1; }
done
for f in postinst prerm postrm; do
  dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qx "./$f" || { echo "no $f"; status=1; }
done
dpkg-deb -x "$deb" "$out/root"
grep -q '^Type=notify$' "$out/root/usr/lib/systemd/system/tandem-llm.service" || { echo "llm unit is not Type=notify"; status=1; }
grep -q '^Requires=tandem-llm.service$' "$out/root/usr/lib/systemd/system/tandem-trainer.service" || { echo "trainer unit lacks Requires="; status=1; }
[ "$status" = 0 ] && echo "$deb: $(wc -l <"$out/files") entries, all expected ones present"
exit $status
