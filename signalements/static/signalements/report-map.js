/* Progressive enhancement of the report steps: every step also works without this script. */
(function () {
  "use strict";

  function baseMap(el) {
    var map = L.map(el, {keyboard: true});
    L.tileLayer(el.dataset.tiles, {maxZoom: 19, attribution: "&copy; OpenStreetMap"}).addTo(map);
    return map;
  }

  function locationStep(el) {
    var form = document.getElementById("location-form");
    var lon = form.querySelector("input[name=lon]");
    var lat = form.querySelector("input[name=lat]");
    var status = document.getElementById("map-status");
    var map = baseMap(el);
    var marker = null;

    function place(latlng, silent) {
      var url = el.dataset.locate + "?lon=" + latlng.lng.toFixed(7) + "&lat=" + latlng.lat.toFixed(7);
      return fetch(url, {headers: {"Accept": "application/json"}}).then(function (response) {
        return response.json().then(function (body) { return {ok: response.ok, body: body}; });
      }).then(function (result) {
        if (!result.ok) {
          if (!silent) { status.textContent = el.dataset.outside; status.classList.add("error"); }
          return;
        }
        status.classList.remove("error");
        lon.value = latlng.lng.toFixed(7);
        lat.value = latlng.lat.toFixed(7);
        if (marker) { marker.setLatLng(latlng); } else {
          marker = L.marker(latlng, {draggable: true, keyboard: true, title: el.dataset.placed, alt: el.dataset.placed}).addTo(map);
          marker.on("dragend", function () { place(marker.getLatLng()); });
        }
        status.textContent = el.dataset.placed + " " + (result.body.district || "");
        var address = form.querySelector("input[name=address]");
        if (address && !address.value && result.body.address) { address.value = result.body.address; }
      });
    }

    fetch(el.dataset.territories).then(function (r) { return r.json(); }).then(function (data) {
      var outline = L.geoJSON(data, {style: {weight: 2, fillOpacity: 0.04, interactive: false}}).addTo(map);
      if (lon.value && lat.value) {
        var here = L.latLng(parseFloat(lat.value), parseFloat(lon.value));
        map.setView(here, 17);
        place(here, true);
      } else if (data.features && data.features.length) {
        // Several cities may share one installation: open on the first one, the others stay reachable.
        map.fitBounds(L.geoJSON(data.features[0]).getBounds());
      }
    });
    map.on("click", function (event) { place(event.latlng); });

    var locateButton = document.getElementById("use-my-location");
    if (locateButton) {
      // Shown even where the browser cannot locate: the click then says so and offers the other ways.
      locateButton.hidden = false;
      locateButton.addEventListener("click", function () {
        if (!navigator.geolocation) { locateFailed("unsupported"); return; }
        locateProblem(null);
        status.classList.remove("error");
        status.textContent = locateButton.dataset.searching;
        navigator.geolocation.getCurrentPosition(function (position) {
          var here = L.latLng(position.coords.latitude, position.coords.longitude);
          map.setView(here, 17);
          place(here);
        }, function (error) {
          locateFailed({1: "denied", 2: "unavailable", 3: "timeout"}[error.code] || "unavailable");
        }, {timeout: 15000, maximumAge: 60000});
      });
    }

    function locateProblem(reason) {
      var text = document.getElementById("locate-problem-text");
      var alternatives = document.getElementById("locate-alternatives");
      if (!text || !alternatives) { return; }
      text.textContent = reason ? locateButton.dataset[reason] : "";
      text.classList.toggle("error", Boolean(reason));
      alternatives.hidden = !reason;
    }

    function locateFailed(reason) {
      status.textContent = "";
      locateProblem(reason);
      // The address search is the next way: the field is focused and tells why.
      var address = form.querySelector("input[name=address]");
      if (address) {
        var described = (address.getAttribute("aria-describedby") || "").split(" ");
        if (described.indexOf("locate-problem-text") < 0) {
          address.setAttribute("aria-describedby", described.concat(["locate-problem-text"]).join(" ").trim());
        }
        address.focus();
      }
    }

    var noMapLink = document.getElementById("no-map-link");
    var noMap = document.getElementById("no-map");
    if (noMapLink && noMap) {
      noMapLink.addEventListener("click", function (event) {
        event.preventDefault();
        noMap.open = true;
        noMap.querySelector("summary").focus();
      });
    }
  }

  function similarStep(el) {
    var map = baseMap(el);
    var here = L.latLng(parseFloat(el.dataset.lat), parseFloat(el.dataset.lon));
    var points = [here];
    L.circleMarker(here, {radius: 9, color: "#b00020", weight: 3}).addTo(map);
    document.querySelectorAll(".candidate").forEach(function (item) {
      var latlng = L.latLng(parseFloat(item.dataset.lat), parseFloat(item.dataset.lon));
      points.push(latlng);
      L.marker(latlng, {title: item.dataset.number, alt: item.dataset.number}).addTo(map)
        .bindTooltip(item.dataset.number, {permanent: true, direction: "top"});
    });
    map.fitBounds(L.latLngBounds(points).pad(0.5), {maxZoom: 18});
  }

  var locationMap = document.getElementById("report-map");
  if (locationMap) { locationStep(locationMap); }
  var similarMap = document.getElementById("similar-map");
  if (similarMap) { similarStep(similarMap); }
})();
