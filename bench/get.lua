-- wrk script: the same GET each request (wrk's default), named so that
-- bench/ab_post.sh can choose a script for every mode.
wrk.method = "GET"
