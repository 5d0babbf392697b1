#!/bin/bash
# The pos-file scenario run on Fluentd 1.16.11 (pos-scenario.fluentd-1.16.11.txt is what it
# printed); tests/e2e_tail.rs (pos_file_through_rename_delete_and_recreate_as_fluentd) checks
# logferry against it.
# usage: posscen.sh BIN DIR
BIN=$1; D=$2; rm -rf $D; mkdir -p $D/out
cat > $D/fluent.conf <<EOC
<source>
  @type tail
  path $D/app.log
  pos_file $D/app.pos
  tag app
  read_from_head true
  rotate_wait 1
  refresh_interval 1
  <parse>
    @type none
  </parse>
</source>
<match **>
  @type null
</match>
<label @FLUENT_LOG>
  <match **>
    @type null
  </match>
</label>
EOC
printf 'a\nb\nc\n' > $D/app.log
$BIN -c $D/fluent.conf > $D/log 2>&1 &
PID=$!
sleep 4; echo "-- after start"; sed "s|$D|D|" $D/app.pos | cat -A; stat -c 'ino %i' $D/app.log
mv $D/app.log $D/app.log.1; printf 'dd\nee\n' > $D/app.log
sleep 4; echo "-- after rename+create"; sed "s|$D|D|" $D/app.pos | cat -A; stat -c 'ino %i' $D/app.log
rm $D/app.log
sleep 5; echo "-- after delete"; sed "s|$D|D|" $D/app.pos | cat -A
printf 'ff\n' > $D/app.log
sleep 4; echo "-- after re-create"; sed "s|$D|D|" $D/app.pos | cat -A; stat -c 'ino %i' $D/app.log
kill $PID; wait $PID 2>/dev/null
