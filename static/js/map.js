// Maps: the browser's map of locations (#map, points from its GeoJSON, clustered), a
// sighting's small map (#mini-map), an individual's stations (#individual-map) and the
// survey page's relative abundance by station (#rai-map). Tiles come from the configured
// server; when they cannot be loaded (offline, blocked) the map draws a plain coordinate
// grid instead.
(function () {
  "use strict";

  function coordinateGrid(map, label) {
    if (map._coordinateGrid) return;
    const layer = L.layerGroup().addTo(map);
    map._coordinateGrid = layer;
    map.getContainer().classList.add("grid-map");
    function draw() {
      layer.clearLayers();
      const bounds = map.getBounds().pad(0.5);
      const zoom = map.getZoom();
      const step = zoom < 4 ? 10 : zoom < 7 ? 1 : zoom < 10 ? 0.1 : 0.01;
      const style = {color: "#9aa8a0", weight: 1, interactive: false};
      for (let lat = Math.floor(bounds.getSouth() / step) * step; lat <= bounds.getNorth(); lat += step) {
        layer.addLayer(L.polyline([[lat, bounds.getWest()], [lat, bounds.getEast()]], style));
      }
      for (let lon = Math.floor(bounds.getWest() / step) * step; lon <= bounds.getEast(); lon += step) {
        layer.addLayer(L.polyline([[bounds.getSouth(), lon], [bounds.getNorth(), lon]], style));
      }
    }
    map.on("moveend zoomend resize", draw);
    draw();
    const legend = L.control({position: "bottomleft"});
    legend.onAdd = () => {
      const box = L.DomUtil.create("div", "grid-legend");
      box.textContent = label;
      return box;
    };
    legend.addTo(map);
  }

  function baseLayer(map, element) {
    const url = element.dataset.tiles;
    const label = element.dataset.gridLabel || "";
    if (!url) { coordinateGrid(map, label); return; }
    const tiles = L.tileLayer(url, {attribution: element.dataset.attribution, maxZoom: 18});
    let loaded = 0;
    tiles.on("tileload", () => { loaded += 1; });
    tiles.on("tileerror", () => {
      if (loaded === 0) { map.removeLayer(tiles); coordinateGrid(map, label); }
    });
    tiles.addTo(map);
  }

  function speciesCounts(feature, names) {
    if (!feature.properties.species_counts) return [];
    return feature.properties.species_counts.split(",")
      .map((pair) => pair.split(":"))
      .map(([species, count]) => [names[species] || species, Number(count)])
      .sort((a, b) => b[1] - a[1]);
  }

  async function popup(feature, element, names) {
    if (feature.properties.species_counts === null) {
      // Too many points to count every species of each: ask for this one's.
      const response = await fetch(element.dataset.url + "&location=" + feature.properties.id);
      const one = await response.json();
      feature.properties.species_counts = one.features.length ? one.features[0].properties.species_counts : "";
    }
    const box = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = feature.properties.name;
    box.append(title, document.createElement("br"));
    const who = document.createElement("span");
    who.textContent = feature.properties.team + " · " + feature.properties.country;
    box.append(who);
    if (feature.properties.generalised) {
      const note = document.createElement("div");
      note.className = "meta";
      note.textContent = element.dataset.generalisedLabel;
      box.append(note);
    }
    const list = document.createElement("ul");
    for (const [name, count] of speciesCounts(feature, names)) {
      const item = document.createElement("li");
      item.textContent = name + ": " + count;
      list.append(item);
    }
    const link = document.createElement("a");
    link.href = feature.properties.url;
    link.textContent = element.dataset.openLabel + " (" + feature.properties.count + ")";
    box.append(list, link);
    return box;
  }

  async function locationsMap(element) {
    // maxZoom on the map itself: clustering needs it, and the tile layer may be gone.
    const map = L.map(element, {worldCopyJump: true, maxZoom: 18}).setView([44, 131], 5);
    baseLayer(map, element);
    const status = document.getElementById("map-status");
    const response = await fetch(element.dataset.url, {headers: {Accept: "application/json"}});
    const data = await response.json();
    const clusters = L.markerClusterGroup();
    const layer = L.geoJSON(data, {
      pointToLayer: (feature, latlng) => L.marker(latlng, {title: feature.properties.name}),
      onEachFeature: (feature, marker) => marker.on("click", async () => {
        marker.bindPopup(await popup(feature, element, data.species)).openPopup();
      }),
    });
    clusters.addLayer(layer);
    map.addLayer(clusters);
    if (data.features.length) map.fitBounds(layer.getBounds().pad(0.2), {maxZoom: 11});
    element.dataset.points = String(data.features.length);
    if (status) {
      status.textContent = data.summary;  // "2 locations · 65 sightings", in the page's language
    }
  }

  function miniMap(element) {
    const latitude = parseFloat(element.dataset.latitude);
    const longitude = parseFloat(element.dataset.longitude);
    const map = L.map(element).setView([latitude, longitude], element.dataset.generalised === "true" ? 9 : 12);
    baseLayer(map, element);
    if (element.dataset.generalised === "true") {
      L.circle([latitude, longitude], {radius: 5000}).addTo(map);
    } else {
      L.marker([latitude, longitude]).addTo(map);
    }
  }

  // An individual's stations (#individual-map): read from the list beside it, whose places
  // the server gave as this reader may see them (a protected station at its grid cell).
  function stationsMap(element) {
    const list = document.getElementById(element.dataset.stations);
    const map = L.map(element, {maxZoom: 18});
    baseLayer(map, element);
    const points = [];
    for (const item of list.querySelectorAll("[data-latitude]")) {
      const latlng = [parseFloat(item.dataset.latitude), parseFloat(item.dataset.longitude)];
      const marker = L.marker(latlng, {title: item.dataset.name}).addTo(map);
      const label = document.createElement("div");
      const name = document.createElement("strong");
      name.textContent = item.dataset.name;
      label.append(name);
      if (item.dataset.generalised === "true") {
        L.circle(latlng, {radius: 5000, interactive: false}).addTo(map);
        const note = document.createElement("div");
        note.className = "meta";
        note.textContent = element.dataset.generalisedLabel;
        label.append(note);
      }
      marker.bindPopup(label);
      points.push(latlng);
    }
    map.fitBounds(L.latLngBounds(points).pad(0.3), {maxZoom: 11});
    element.dataset.points = String(points.length);
  }

  // The survey page's relative abundance (#rai-map): a circle per station for the species
  // chosen in the list beside it, larger and darker with the RAI; the places are those the
  // server gave this reader (a protected station at its grid cell, drawn dashed).
  const RAI_COLOURS = ["#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"];  // viridis, 5 steps

  function raiPopup(feature, species, element) {
    const box = document.createElement("div");
    const name = document.createElement("strong");
    name.textContent = feature.properties.name;
    box.append(name);
    if (feature.properties.generalised) {
      const note = document.createElement("div");
      note.className = "meta";
      note.textContent = element.dataset.generalisedLabel;
      box.append(note);
    }
    const rai = feature.properties.rai[species];
    const lines = [
      [element.dataset.detectionsLabel, feature.properties.detections[species]],
      [element.dataset.nightsLabel, raiNumber(feature.properties.trap_nights, 2)],
      [element.dataset.raiLabel, rai === null ? "NA" : raiNumber(rai, 2)],
    ];
    const list = document.createElement("ul");
    for (const [label, value] of lines) {
      const item = document.createElement("li");
      item.textContent = label + ": " + value;
      list.append(item);
    }
    box.append(list);
    return box;
  }

  function raiNumber(value, digits) {
    return value.toLocaleString(document.documentElement.lang, {maximumFractionDigits: digits});
  }

  function raiLegend(box, most, element) {
    box.replaceChildren();
    const title = document.createElement("strong");
    title.textContent = element.dataset.legendLabel;
    box.append(title);
    const rows = RAI_COLOURS.map((colour, step) => [
      colour, raiNumber(most * step / 5, 1) + "–" + raiNumber(most * (step + 1) / 5, 1),
    ]);
    rows.unshift([null, "0: " + element.dataset.noneLabel]);
    for (const [colour, text] of most > 0 ? rows : rows.slice(0, 1)) {
      const row = document.createElement("div");
      const swatch = document.createElement("span");
      swatch.className = colour ? "rai-swatch" : "rai-swatch rai-none";
      if (colour) swatch.style.background = colour;
      row.append(swatch, document.createTextNode(text));
      box.append(row);
    }
  }

  async function raiMap(element) {
    const map = L.map(element, {maxZoom: 18}).setView([44, 131], 5);
    baseLayer(map, element);
    const select = document.getElementById(element.dataset.species);
    const status = document.getElementById("rai-map-status");
    const response = await fetch(element.dataset.url, {headers: {Accept: "application/json"}});
    if (!response.ok) return;
    const data = await response.json();
    const layer = L.layerGroup().addTo(map);
    const legend = L.control({position: "bottomright"});
    legend.onAdd = () => L.DomUtil.create("div", "rai-legend");
    legend.addTo(map);
    function draw() {
      const species = select.value;
      layer.clearLayers();
      const most = Math.max(0, ...data.features.map((f) => f.properties.rai[species] || 0));
      for (const feature of data.features) {
        const [longitude, latitude] = feature.geometry.coordinates;
        const rai = feature.properties.rai[species];
        const dashed = feature.properties.generalised ? "4 3" : null;
        const style = rai ? {
          radius: 6 + 14 * Math.sqrt(rai / most), color: "#1b241f", weight: 1, dashArray: dashed,
          fillColor: RAI_COLOURS[Math.min(4, Math.floor(rai / most * 5))], fillOpacity: 0.85,
        } : {radius: 5, color: "#5a6a61", weight: 2, dashArray: dashed, fill: false};
        L.circleMarker([latitude, longitude], style)
          .bindPopup(() => raiPopup(feature, species, element))
          .addTo(layer);
      }
      raiLegend(legend.getContainer(), most, element);
      element.dataset.shown = species;
    }
    select.addEventListener("change", draw);
    draw();
    const points = data.features.map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]);
    if (points.length) map.fitBounds(L.latLngBounds(points).pad(0.2), {maxZoom: 11});
    element.dataset.points = String(points.length);
    if (status) status.textContent = data.summary;
  }

  const big = document.getElementById("map");
  if (big) locationsMap(big);
  const small = document.getElementById("mini-map");
  if (small) miniMap(small);
  const stations = document.getElementById("individual-map");
  if (stations) stationsMap(stations);
  const rai = document.getElementById("rai-map");
  if (rai) raiMap(rai);
})();
