# gnuplot -e "dir='bench/results'" bench/plot.gp: the warm connection times
# (bare libpq and through the shim) as cumulative distributions, and the added
# time of a new psql process for each variant.
set terminal pngcairo size 1100,450 font ",10"
set output dir."/bench.png"
set multiplot layout 1,2
set title "Warm connections: PQconnectdb + SELECT 1 + PQfinish"
set xlabel "ms"
set ylabel "fraction of connections"
set key bottom right
set grid
plot dir."/warm.dat" using 2:1 with lines lw 2 title "bare libpq", \
     dir."/warm.dat" using 3:1 with lines lw 2 dt 2 title "through the shim"
set title "A new process: psql -c 'select 1', median"
set xlabel ""
set ylabel "ms"
set style data histograms
set style fill solid 0.6 border -1
set boxwidth 0.7
set xtics rotate by -20 left
set key off
set logscale y
set ylabel "ms (log scale)"
plot dir."/cold.dat" using 2:xtic(1) title "median"
unset multiplot
